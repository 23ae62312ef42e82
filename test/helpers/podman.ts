// podman's rootless pause process holds its user namespace and outlives every podman command: a
// test that runs podman with its own XDG_RUNTIME_DIR ends it, or one is left running per test run.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The pid podman wrote for its pause process under `runtimeDir` (read it before `system reset`, which removes the file). */
export function podmanPausePid(runtimeDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(runtimeDir, 'libpod', 'tmp', 'pause.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Ends the pause process `pid` (from podmanPausePid) if it is still there. */
export function endPodmanPause(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
}
