// Progress of the long steps that move blobs (pulls, pushes, cache import/export, output
// archives) as BuildEvents: a task with an id from the build's step counter, then per blob a
// start, throttled byte counts and a done. Emitting is cheap and rate-limited here, so the
// renderers and `--progress=json` see at most ~10 events a second per blob.
import type { BlobNote, BuildEvent } from './events.js';
import type { PullEvent } from '../registry/pull.js';
import type { PushEvent } from '../registry/push.js';

/** Per-blob byte updates closer together than this are folded into the next one. */
const THROTTLE_MS = 100;

export interface BlobMeter {
  /** `bytes` more were moved. */
  add(bytes: number): void;
  /** The blob is complete (`note`: without moving its bytes). */
  done(note?: BlobNote): void;
}

/** What a writer of blobs reports to. */
export interface TransferProgress {
  blob(digest: string, total: number): BlobMeter;
  /** A blob that needed no transfer (one event, no start). */
  settled(digest: string, total: number, note: BlobNote): void;
}

/** Reports nothing (the programmatic API without a listener). */
export const noProgress: TransferProgress = { blob: () => ({ add: () => undefined, done: () => undefined }), settled: () => undefined };

/** Starts a task named `text`; its `task-start` is sent with its first blob, so a step that moves nothing shows nothing. */
export type TaskStarter = (text: string) => ProgressTask;

export function taskStarter(emit: (e: BuildEvent) => void, nextId: () => number, now: () => number = Date.now): TaskStarter {
  return (text) => new ProgressTask(emit, nextId, text, now);
}

export class ProgressTask implements TransferProgress {
  private id: number | undefined;
  private started = 0;

  constructor(
    private readonly emit: (e: BuildEvent) => void,
    private readonly nextId: () => number,
    readonly text: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows the task now (idempotent). */
  start(): number {
    if (this.id === undefined) {
      this.id = this.nextId();
      this.started = this.now();
      this.emit({ type: 'task-start', id: this.id, text: this.text });
    }
    return this.id;
  }

  /** Ends the task, if it was shown. */
  done(): void {
    if (this.id === undefined) return;
    this.emit({ type: 'task-done', id: this.id, seconds: (this.now() - this.started) / 1000 });
  }

  settled(digest: string, total: number, note: BlobNote): void {
    const id = this.start();
    this.emit({ type: 'blob', id, digest, total, current: 0, seconds: 0, done: true, note });
  }

  blob(digest: string, total: number): BlobMeter {
    const id = this.start();
    const began = this.now();
    let current = 0;
    let sent = began;
    let finished = false;
    const send = (done: boolean, note?: BlobNote): void =>
      this.emit({ type: 'blob', id, digest, total, current, seconds: (this.now() - began) / 1000, done, ...(note ? { note } : {}) });
    send(false);
    return {
      add: (bytes) => {
        if (finished) return;
        current += bytes;
        const t = this.now();
        if (t - sent < THROTTLE_MS) return;
        sent = t;
        send(false);
      },
      done: (note) => {
        if (finished) return;
        finished = true;
        if (!note) current = Math.max(current, total);
        send(true, note);
      },
    };
  }

  /** Runs `work` as this task: done when it ends, whether it succeeds or not. */
  async run<T>(work: (task: ProgressTask) => Promise<T>): Promise<T> {
    try {
      return await work(this);
    } finally {
      this.done();
    }
  }
}

/** A pull's events (registry/pull.ts) as blob progress. */
export function pullProgress(p: TransferProgress): (e: PullEvent) => void {
  const meters = new Map<string, BlobMeter>();
  return (e) => {
    if (e.kind === 'blob') {
      if (e.cached) p.settled(e.digest, e.size, 'cached');
      else meters.set(e.digest, p.blob(e.digest, e.size));
    } else if (e.kind === 'progress') meters.get(e.digest)?.add(e.bytes);
    else if (e.kind === 'blob-done') {
      meters.get(e.digest)?.done();
      meters.delete(e.digest);
    }
  };
}

/** A push's events (registry/push.ts) as blob progress. */
export function pushProgress(p: TransferProgress): (e: PushEvent) => void {
  const meters = new Map<string, BlobMeter>();
  return (e) => {
    if (e.kind === 'blob-start') meters.set(e.digest, p.blob(e.digest, e.size));
    else if (e.kind === 'progress') meters.get(e.digest)?.add(e.bytes);
    else if (e.kind === 'blob') {
      const m = meters.get(e.digest);
      meters.delete(e.digest);
      if (e.outcome === 'exists' || (e.outcome === 'mounted' && !m)) p.settled(e.digest, e.size, e.outcome);
      else if (m) m.done(e.outcome === 'mounted' ? 'mounted' : undefined);
      else p.blob(e.digest, e.size).done();
    }
  };
}
