// The `tty` progress display: running steps with a live timer and the last
// few lines of their output, redrawn in place with ANSI cursor movement.
// Finished steps are printed once above the live area and never redrawn, so
// the terminal's scrollback keeps a clean log (as BuildKit's display does).
import type { BuildEvent } from '../executor/events.js';

/** What the renderer needs of a terminal: tests pass a fake. */
export interface TtyStream {
  write(chunk: string): unknown;
  columns?: number;
}

export interface TtyOptions {
  /** Lines of output shown under a running step. */
  tailLines?: number;
  /** Milliseconds between timer redraws while a step runs (0: no timer, tests). */
  refreshMs?: number;
  now?: () => number;
  /** Dim the output lines (false under NO_COLOR, https://no-color.org). */
  color?: boolean;
}

interface LiveStep {
  id: number;
  title: string;
  started: number;
  tail: string[];
  partial: string;
}

const ESC = '\x1b[';

export class TtyRenderer {
  private readonly steps = new Map<number, LiveStep>();
  /** Lines the live area currently occupies on screen (to move back over). */
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tailLines: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly color: boolean;

  constructor(
    private readonly out: TtyStream,
    options: TtyOptions = {},
  ) {
    this.tailLines = options.tailLines ?? 5;
    this.refreshMs = options.refreshMs ?? 100;
    this.now = options.now ?? Date.now;
    this.color = options.color ?? true;
  }

  handle(e: BuildEvent): void {
    switch (e.type) {
      case 'step-start':
        this.steps.set(e.id, { id: e.id, title: `[${e.stage} ${e.index}/${e.total}] ${firstLine(e.text)}`, started: this.now(), tail: [], partial: '' });
        this.startTimer();
        this.redraw();
        break;
      case 'step-output': {
        const step = this.steps.get(e.id);
        if (!step) return;
        const lines = (step.partial + e.data.toString('utf8')).split(/\r?\n|\r/);
        step.partial = lines.pop() ?? '';
        step.tail.push(...lines);
        // Only the tail is ever shown; keep memory flat for chatty steps.
        if (step.tail.length > this.tailLines) step.tail.splice(0, step.tail.length - this.tailLines);
        this.redraw();
        break;
      }
      case 'step-done': {
        const step = this.steps.get(e.id);
        this.steps.delete(e.id);
        const title = step?.title ?? `#${e.id}`;
        this.printAbove([`=> #${e.id} ${title} ${e.cached ? 'CACHED' : `${e.seconds.toFixed(1)}s`}`]);
        break;
      }
      case 'step-error': {
        const step = this.steps.get(e.id);
        this.steps.delete(e.id);
        // A failed step keeps its output tail on screen: it is what the user needs.
        const tail = step ? [...step.tail, ...(step.partial ? [step.partial] : [])].map((l) => `   ${l}`) : [];
        this.printAbove([`=> ERROR #${e.id} ${step?.title ?? ''}`.trimEnd(), ...tail, `   ${e.message}`]);
        break;
      }
      case 'warning':
        this.printAbove([`WARNING: ${e.message}`]);
        break;
      case 'info':
        this.printAbove([e.message]);
        break;
    }
    if (this.steps.size === 0) this.stopTimer();
  }

  /** Removes the live area (e.g. before the CLI prints its result). */
  close(): void {
    this.stopTimer();
    this.erase();
  }

  private printAbove(lines: string[]): void {
    this.erase();
    this.out.write(lines.map((l) => this.fit(l)).join('\n') + '\n');
    this.draw();
  }

  private redraw(): void {
    this.erase();
    this.draw();
  }

  private erase(): void {
    if (this.drawn === 0) return;
    // Up to the first live line, then clear to the end of the screen.
    this.out.write(`${ESC}${this.drawn}A\r${ESC}J`);
    this.drawn = 0;
  }

  private draw(): void {
    const lines: string[] = [];
    const now = this.now();
    for (const step of this.steps.values()) {
      lines.push(this.fit(`=> #${step.id} ${step.title} ${((now - step.started) / 1000).toFixed(1)}s`));
      const tail = [...step.tail, ...(step.partial ? [step.partial] : [])].slice(-this.tailLines);
      for (const l of tail) lines.push(this.color ? `${ESC}2m${this.fit(`   ${l}`)}${ESC}0m` : this.fit(`   ${l}`));
    }
    if (lines.length === 0) return;
    this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }

  /** One screen row per line, or the cursor arithmetic in erase() breaks. */
  private fit(line: string): string {
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const clean = stripControl(line);
    return clean.length > width ? `${clean.slice(0, width - 3)}...` : clean;
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
