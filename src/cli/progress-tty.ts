// The `tty` progress display: running steps with a live timer and the last
// few lines of their output, redrawn in place with ANSI cursor movement.
// Finished steps are printed once above the live area and never redrawn, so
// the terminal's scrollback keeps a clean log (as BuildKit's display does).
// Long tasks (pulls, pushes, caches, archives) show a line per blob in flight
// with its bytes, rate and time. Redraws come from a timer (~10 a second),
// never from the events themselves, so a chatty step costs no terminal writes.
// Every line fits the terminal's width: the name is cut, never the time,
// CACHED or the byte counts' tail.
import type { BuildEvent } from '../executor/events.js';
import { blobStatusForms, shortDigest, summaryLine } from './progress-format.js';

/** What the renderer needs of a terminal: tests pass a fake. */
export interface TtyStream {
  write(chunk: string): unknown;
  columns?: number;
}

export interface TtyOptions {
  /** Lines of output shown under a running step. */
  tailLines?: number;
  /** Milliseconds between redraws while something runs (0: draw on every event, for tests). */
  refreshMs?: number;
  now?: () => number;
  /** The terminal's width now (default: the stream's `columns`, else 80). */
  columns?: () => number | undefined;
}

interface LiveStep {
  id: number;
  title: string;
  started: number;
  tail: string[];
  partial: string;
}

type BlobEvent = Extract<BuildEvent, { type: 'blob' }>;

interface LiveTask {
  id: number;
  text: string;
  started: number;
  /** Every blob of the task, in the order they started: the latest status of each and when it came. */
  blobs: Map<string, { event: BlobEvent; at: number }>;
}

const ESC = '\x1b[';
/** Blobs in flight shown under a task; more are counted on one line. */
const MAX_BLOB_LINES = 6;
const CUT = '...';
/** A blob's digest keeps this much (`sha256:0123...`) before its byte counts are shortened. */
const DIGEST_ROOM = 14;

export class TtyRenderer {
  private readonly steps = new Map<number, LiveStep>();
  private readonly tasks = new Map<number, LiveTask>();
  /** Lines the live area currently occupies on screen (to move back over). */
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tailLines: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly columns: () => number | undefined;

  constructor(
    private readonly out: TtyStream,
    options: TtyOptions = {},
  ) {
    this.tailLines = options.tailLines ?? 5;
    this.refreshMs = options.refreshMs ?? 100;
    this.now = options.now ?? Date.now;
    this.columns = options.columns ?? (() => out.columns);
  }

  handle(e: BuildEvent): void {
    switch (e.type) {
      case 'step-start':
        this.steps.set(e.id, { id: e.id, title: `[${e.stage} ${e.index}/${e.total}] ${firstLine(e.text)}`, started: this.now(), tail: [], partial: '' });
        this.changed();
        break;
      case 'step-output': {
        const step = this.steps.get(e.id);
        if (!step) return;
        const lines = (step.partial + e.data.toString('utf8')).split(/\r?\n|\r/);
        step.partial = lines.pop() ?? '';
        step.tail.push(...lines);
        // Only the tail is ever shown; keep memory flat for chatty steps.
        if (step.tail.length > this.tailLines) step.tail.splice(0, step.tail.length - this.tailLines);
        if (step.partial.length > 4096) step.partial = step.partial.slice(-4096);
        this.changed();
        break;
      }
      case 'step-done': {
        const step = this.steps.get(e.id);
        this.steps.delete(e.id);
        this.printAbove([this.fit(`=> #${e.id} `, step?.title ?? '', [e.cached ? 'CACHED' : `${e.seconds.toFixed(1)}s`])]);
        break;
      }
      case 'step-error': {
        const step = this.steps.get(e.id);
        this.steps.delete(e.id);
        // A failed step keeps its output tail on screen: it is what the user needs.
        const tail = step ? [...step.tail, ...(step.partial ? [step.partial] : [])].map((l) => this.fit('', `   ${l}`)) : [];
        this.printAbove([this.fit(`=> ERROR #${e.id} `, step?.title ?? ''), ...tail, this.fit('', `   ${e.message}`)]);
        break;
      }
      case 'task-start':
        this.tasks.set(e.id, { id: e.id, text: firstLine(e.text), started: this.now(), blobs: new Map() });
        this.changed();
        break;
      case 'blob': {
        const task = this.tasks.get(e.id);
        if (!task) return;
        task.blobs.set(e.digest, { event: e, at: this.now() });
        this.changed();
        break;
      }
      case 'task-done': {
        const task = this.tasks.get(e.id);
        this.tasks.delete(e.id);
        if (!task) return;
        // What each blob came to stays in the scrollback, under its task (BuildKit's `=> =>` lines).
        const blobs = [...task.blobs.values()].map(({ event: b }) => this.fit('=> => ', shortDigest(b.digest), blobStatusForms(b), DIGEST_ROOM));
        this.printAbove([this.fit(`=> #${e.id} `, task.text, [`${e.seconds.toFixed(1)}s`]), ...blobs]);
        break;
      }
      case 'build-done':
        // Whole, even if it wraps: it is the build's result, and nothing live is drawn under it.
        this.printAbove([stripControl(summaryLine(e))]);
        break;
      case 'warning':
        this.printAbove([this.fit('', `WARNING: ${e.message}`)]);
        break;
      case 'info':
        this.printAbove([this.fit('', e.message)]);
        break;
    }
    if (this.steps.size === 0 && this.tasks.size === 0) this.stopTimer();
  }

  /** Removes the live area (e.g. before the CLI prints its result). */
  close(): void {
    this.stopTimer();
    const erase = this.erase();
    if (erase) this.out.write(erase);
  }

  /** Something live changed: drawn now in tests (refreshMs 0), else by the next tick of the timer. */
  private changed(): void {
    if (this.refreshMs <= 0) this.redraw();
    else this.startTimer();
  }

  // Each update is one write: erase, new lines, live area (no flicker, one syscall).
  private printAbove(lines: string[]): void {
    const erase = this.erase();
    this.out.write(erase + lines.join('\n') + '\n' + this.draw());
  }

  private redraw(): void {
    const text = this.erase() + this.draw();
    if (text) this.out.write(text);
  }

  private erase(): string {
    if (this.drawn === 0) return '';
    // Up to the first live line, then clear to the end of the screen.
    const text = `${ESC}${this.drawn}A\r${ESC}J`;
    this.drawn = 0;
    return text;
  }

  private draw(): string {
    const lines: string[] = [];
    const now = this.now();
    const since = (t: number): string => `${((now - t) / 1000).toFixed(1)}s`;
    for (const step of this.steps.values()) {
      lines.push(this.fit(`=> #${step.id} `, step.title, [since(step.started)]));
      const tail = [...step.tail, ...(step.partial ? [step.partial] : [])].slice(-this.tailLines);
      for (const l of tail) lines.push(`${ESC}2m${this.fit('', `   ${l}`)}${ESC}0m`);
    }
    for (const task of this.tasks.values()) {
      lines.push(this.fit(`=> #${task.id} `, task.text, [since(task.started)]));
      const moving = [...task.blobs.values()].filter((b) => !b.event.done);
      for (const { event: b, at } of moving.slice(-MAX_BLOB_LINES)) {
        // The blob's clock runs between its throttled events (the rate stays that of the last one).
        const live = { ...b, seconds: b.seconds + (now - at) / 1000 };
        lines.push(this.fit('=> => ', shortDigest(b.digest), blobStatusForms(live), DIGEST_ROOM));
      }
      const finished = task.blobs.size - moving.length;
      if (moving.length > MAX_BLOB_LINES || finished > 0) {
        lines.push(this.fit('=> => ', `${finished}/${task.blobs.size} blobs done`));
      }
    }
    this.drawn = lines.length;
    return lines.length === 0 ? '' : lines.join('\n') + '\n';
  }

  /**
   * One screen row per line, or the cursor arithmetic in erase() breaks. The `name` is cut first;
   * `tails` (longest first) is what must stay whole: the first form that fits beside a few
   * characters of the name is used, and the head (`=> #12 `) goes before the last form is cut.
   */
  private fit(head: string, name: string, tails: string[] = [''], minName = 4): string {
    const width = Math.max(10, (this.columns() ?? 80) - 1);
    const clean = stripControl(name);
    const join = (h: string, n: string, t: string): string => `${h}${n}${t && n ? ' ' : ''}${t}`;
    for (const tail of tails) {
      const whole = join(head, clean, tail);
      if (whole.length <= width) return whole;
      const room = width - head.length - tail.length - (tail ? 1 : 0);
      if (room >= Math.min(clean.length, CUT.length + minName)) return join(head, `${clean.slice(0, room - CUT.length)}${CUT}`, tail);
    }
    const tail = tails[tails.length - 1];
    const room = width - tail.length - (tail ? 1 : 0);
    if (room >= CUT.length + 1) return join('', `${clean.slice(0, room - CUT.length)}${CUT}`, tail);
    return tail.slice(0, width);
  }

  private startTimer(): void {
    if (this.timer || this.refreshMs <= 0) return;
    this.timer = setInterval(() => this.redraw(), this.refreshMs);
    this.timer.unref(); // never keep the process alive for a clock
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0];
}

/** Escape sequences and tabs from a step's output would move our cursor. */
function stripControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\t/g, '    ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}
