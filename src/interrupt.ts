// SIGINT, SIGTERM and SIGHUP, honoured at any moment: the one place that decides what a signal
// does to this process. The CLI's main() installs the handlers before it does any work. A command
// that can stop cleanly (build, run) takes the AbortSignal below and turns the signal into an
// INTERRUPTED error after its cleanup; so does enterUserNamespace's outer process, which relays
// the signal and exits with the inner one's status. Until one does (and for the other commands)
// a signal ends the process at once with process.exit(128+N), so that `exit` hooks still run
// (partial outputs remove their temp files: src/fs/partial.ts).
import { constants } from 'node:os';
import { NbuildError } from './errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const controller = new AbortController();
let cancellable = false;
let installed = false;

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM (the shell's convention). */
export function signalExitStatus(sig: NodeJS.Signals): number {
  return 128 + (constants.signals[sig] ?? 0);
}

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  // `on`, not `once`: a second signal must not kill the cleanup the first one started.
  for (const sig of SIGNALS) process.on(sig, () => onSignal(sig));
}

function onSignal(sig: NodeJS.Signals): void {
  const status = signalExitStatus(sig);
  if (!cancellable) process.exit(status);
  if (!controller.signal.aborted) controller.abort(new NbuildError('INTERRUPTED', `interrupted by ${sig}`, { exitCode: status }));
}

/**
 * The signal a command passes down to stop its work: from this call on, SIGINT/SIGTERM/SIGHUP
 * abort it (reason: an NbuildError with exit status 128+N) instead of ending the process.
 */
export function interruptSignal(): AbortSignal {
  cancellable = true;
  return controller.signal;
}
