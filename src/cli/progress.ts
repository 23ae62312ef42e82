// Progress reporters: subscribers to build events. `plain` is for CI logs;
// `tty` redraws running steps in place (progress-tty.ts); `json` is one event
// per line; `quiet` prints only warnings and errors (the id goes to stdout).
// docs/cli.md ("Progress") shows each mode's lines.
import type { BuildEvent } from '../executor/events.js';
import { UsageError } from '../errors.js';
import { blobStatus, summaryLine } from './progress-format.js';
import { TtyRenderer, type TtyStream } from './progress-tty.js';
import { ProgressTask } from '../executor/transfer-progress.js';
import { stderr, stderrIsTerminal, type TextSink } from '../stdio.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';

/** A subscriber to build events; `close()` removes what a tty display still shows (call it before the result, or an error, is printed). */
export type Reporter = ((e: BuildEvent) => void) & { close(): void };

/** -q is quiet; otherwise `flag` (--progress), then $BUILDKIT_PROGRESS, then auto. `rawjson` is json. */
export function progressMode(flag: string | undefined, quiet = false): ProgressMode {
  if (quiet) return 'quiet';
  const mode = flag ?? process.env.BUILDKIT_PROGRESS ?? 'auto';
  if (mode === 'rawjson') return 'json';
  if (!['auto', 'tty', 'plain', 'json', 'quiet'].includes(mode)) {
    throw new UsageError(`${flag !== undefined ? `--progress ${mode}` : `BUILDKIT_PROGRESS=${mode}`}: expected auto, tty, plain, json, rawjson or quiet`);
  }
  return mode as ProgressMode;
}

/**
 * A reporter writing to `out`, by default stderr: written directly (stdio.ts) except by the tty
 * display, which draws on process.stderr.
 */
export function progressReporter(mode: ProgressMode, given?: NodeJS.WritableStream): Reporter {
  const resolved = mode === 'auto' ? ((given ? (given as NodeJS.WriteStream).isTTY : stderrIsTerminal()) ? 'tty' : 'plain') : mode;
  const out: TextSink = given ?? stderr;
  const reporter = (handle: (e: BuildEvent) => void, close: () => void = () => undefined): Reporter => Object.assign(handle, { close });
  switch (resolved) {
    case 'quiet':
      return reporter((e) => {
        if (e.type === 'warning') out.write(`WARNING: ${e.message}\n`);
      });
    case 'json':
      // `time` (ms since the epoch) lets tools split a build's wall time by step.
      return reporter((e) => out.write(JSON.stringify({ ...(e.type === 'step-output' ? { ...e, data: e.data.toString('utf8') } : e), time: Date.now() }) + '\n'));
    case 'tty': {
      const stream = (given ?? process.stderr) as NodeJS.WritableStream & TtyStream;
      // $COLUMNS, when set, is the user's say over the terminal's own width (as for ls).
      const renderer = new TtyRenderer(stream, { columns: () => envColumns() ?? stream.columns, color: !process.env.NO_COLOR });
      return reporter((e) => renderer.handle(e), () => renderer.close());
    }
    default:
      return reporter(plainReporter(out));
  }
}

/** `--progress` of pull and push (build's is in build-options.ts). */
export const PROGRESS_OPTION = {
  type: 'string',
  choices: ['auto', 'tty', 'plain', 'json', 'rawjson', 'quiet'],
  describe: 'auto (default, or $BUILDKIT_PROGRESS) | tty | plain | json | quiet',
} as const;

/**
 * pull and push: one task (#1) whose blobs the chosen display shows. `text`: whether the command
 * may add lines of its own to stderr (not when quiet, nor in json, which is one event per line).
 */
export function transferReporter(flag: string | undefined, quiet: boolean, taskText: string): { reporter: Reporter; task: ProgressTask; text: boolean } {
  const mode = progressMode(flag, quiet);
  const reporter = progressReporter(mode);
  let id = 0;
  return { reporter, task: new ProgressTask(reporter, () => ++id, taskText), text: mode !== 'quiet' && mode !== 'json' };
}

function envColumns(): number | undefined {
  const n = Number(process.env.COLUMNS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function plainReporter(out: TextSink): (e: BuildEvent) => void {
  const partial = new Map<number, string>();
  /** Blobs whose start line was printed (per task id), so each gets one start and one done line. */
  const started = new Set<string>();
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
      case 'task-start':
        out.write(`#${e.id} ${oneLine(e.text)}\n`);
        break;
      case 'blob': {
        // BuildKit's plain lines (`#5 sha256:… 3.40MB / 3.40MB 0.2s done`), at the start and the end only.
        const key = `${e.id} ${e.digest}`;
        if (e.done) {
          started.delete(key);
          out.write(`#${e.id} ${e.digest} ${blobStatus(e, false)}\n`);
        } else if (!started.has(key)) {
          started.add(key);
          out.write(`#${e.id} ${e.digest} ${blobStatus(e, false)}\n`);
        }
        break;
      }
      case 'task-done':
        out.write(`#${e.id} DONE ${e.seconds.toFixed(1)}s\n`);
        break;
      case 'build-done':
        out.write(`${summaryLine(e)}\n`);
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
