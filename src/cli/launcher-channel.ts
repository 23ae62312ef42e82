// The pipe to bin/nbuild's launcher (native/sandbox/handback.h), whose write end Node inherits as
// NBUILD_HANDBACK_FD. Two lines go there: `podman-load PATH` (load-into.ts), and, as the last
// thing this process does, `exit CODE`, on which the launcher returns the code at once instead of
// waiting for Node to free its memory and end (~15 ms of every command on this VM;
// docs/decisions.md, "Start-up: the launcher returns at Node's exit event").
import { writeSync } from 'node:fs';

/** The channel's descriptor, where bin/nbuild's launcher opened one. */
export function launcherChannel(): number | undefined {
  const fd = Number(process.env.NBUILD_HANDBACK_FD);
  return Number.isInteger(fd) && fd >= 3 ? fd : undefined;
}

/**
 * Tells the launcher the exit code as the process exits, from an exit listener added now: call it
 * once the command is done, after the listeners that remove its files (the store's session and
 * lease) were added, so that this one runs after them. stdout and stderr stay open: Node restores
 * their flags as it ends.
 */
export function reportExitToLauncher(): void {
  const fd = launcherChannel();
  if (fd === undefined) return;
  process.once('exit', (code) => {
    try {
      writeSync(fd, `exit ${code}\n`);
    } catch {
      // the launcher waits for the process to end instead
    }
  });
}
