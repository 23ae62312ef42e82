// Start-up and phase timestamps for profiling (bench/README.md): with NBUILD_TRACE=1 each call
// prints `nbuild-trace <ms since the process started> <what>` on stderr. Off, it costs a check:
// Node's global `performance` (not node:perf_hooks, whose import loads a dozen modules at start).

import { stderr } from './stdio.js';

const enabled = process.env['NBUILD_TRACE'] === '1';

export function trace(what: string): void {
  if (enabled) stderr.write(`nbuild-trace ${performance.now().toFixed(1)} ${what}\n`);
}

if (enabled) process.on('exit', (code) => trace(`exit ${code}`));
