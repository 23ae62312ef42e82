// Start-up and phase timestamps for profiling (bench/README.md): with NBUILD_TRACE=1 each call
// prints `nbuild-trace <ms since the process started> <what>` on stderr. Off, it costs a check.
// The time is process.uptime(): Node's global `performance` loads its perf modules on first use
// (~3 ms), and the benchmarks run nbuild traced (for its peak RSS, below).

import { stderr } from './stdio.js';

const enabled = process.env['NBUILD_TRACE'] === '1';

export function trace(what: string): void {
  if (enabled) stderr.write(`nbuild-trace ${(process.uptime() * 1000).toFixed(1)} ${what}\n`);
}

// The process's own peak RSS with the exit: what the benchmarks report for nbuild, since the
// launcher returns at Node's exit line, before Node ends (src/cli/launcher-channel.ts).
if (enabled) process.on('exit', (code) => trace(`exit ${code}, peak RSS ${process.resourceUsage().maxRSS} kB`));
