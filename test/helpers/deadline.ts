import * as os from 'node:os';

/**
 * A wall-clock bound for "stops within N ms" assertions, stretched by how oversubscribed the
 * machine is (runnable tasks per core over the last minute). On a quiet machine — CI — it is N;
 * under a load of 30 on 2 cores a process may wait seconds for a core, and what the test proves
 * (the old code ran on for the whole transfer, many times longer) still holds.
 */
export function loadScaledMs(ms: number): number {
  const perCore = os.loadavg()[0] / Math.max(1, os.cpus().length);
  return Math.round(ms * Math.max(1, perCore));
}
