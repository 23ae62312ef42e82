// Progress reporters: subscribers to build events. `plain` is for CI logs;
// `tty` redraws running steps in place (progress-tty.ts); `json` is one event
// per line; `quiet` prints only warnings and errors (the id goes to stdout).
import type { BuildEvent } from '../executor/events.js';
import { TtyRenderer, type TtyStream } from './progress-tty.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

export function progressReporter(mode: ProgressMode, out: NodeJS.WritableStream = process.stderr): (e: BuildEvent) => void {
  const resolved = mode === 'auto' ? ((out as NodeJS.WriteStream).isTTY ? 'tty' : 'plain') : mode;
  switch (resolved) {
    case 'quiet':
      return (e) => {
        if (e.type === 'warning') out.write(`WARNING: ${e.message}\n`);
      };
    case 'json':
      // `time` (ms since the epoch) lets tools split a build's wall time by step.
      return (e) => out.write(JSON.stringify({ ...(e.type === 'step-output' ? { ...e, data: e.data.toString('utf8') } : e), time: Date.now() }) + '\n');
    case 'tty': {
      const renderer = new TtyRenderer(out as NodeJS.WritableStream & TtyStream, { color: !process.env.NO_COLOR });
      return (e) => renderer.handle(e);
    }
    default:
      return plainReporter(out);
  }
}

function plainReporter(out: NodeJS.WritableStream): (e: BuildEvent) => void {
  const partial = new Map<number, string>();
  return (e) => {
    switch (e.type) {
      case 'step-start':
        out.write(`#${e.id} [${e.stage} ${e.index}/${e.total}] ${oneLine(e.text)}\n`);
        break;
      case 'step-output': {
        const text = (partial.get(e.id) ?? '') + e.data.toString('utf8');
        const lines = text.split('\n');
        partial.set(e.id, lines.pop() ?? '');
        for (const line of lines) out.write(`#${e.id} ${line}\n`);
        break;
      }
      case 'step-done': {
        const rest = partial.get(e.id);
        if (rest) out.write(`#${e.id} ${rest}\n`);
        partial.delete(e.id);
        out.write(`#${e.id} ${e.cached ? 'CACHED' : `DONE ${e.seconds.toFixed(1)}s`}\n`);
        break;
      }
      case 'step-error':
        out.write(`#${e.id} ERROR: ${e.message}\n`);
        break;
      case 'warning':
        out.write(`WARNING: ${e.message}\n`);
        break;
      case 'info':
        out.write(`${e.message}\n`);
        break;
    }
  };
}

function oneLine(text: string): string {
  const first = text.split('\n')[0];
  return first.length > 200 ? `${first.slice(0, 197)}...` : first;
}
