// The progress renderers as units: events in (object literals), text out. The e2e side
// (real pulls, pushes and builds) is test/e2e/progress-transfer.test.ts.
import test from 'ava';
import type { BuildEvent } from '../../src/executor/events.js';
import { plainReporter, progressReporter } from '../../src/cli/progress.js';
import { TtyRenderer } from '../../src/cli/progress-tty.js';
import { formatBytes, summaryLine } from '../../src/cli/progress-format.js';
import { ProgressTask, pullProgress, pushProgress, taskStarter } from '../../src/executor/transfer-progress.js';

const D1 = `sha256:${'a1'.repeat(32)}`;
const D2 = `sha256:${'b2'.repeat(32)}`;

/** Collects what a reporter writes. */
function sink(): { out: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return { out, text: () => text };
}

/** A tiny terminal of a given width: cursor up, CR, clear to end, SGR. Fails a line that would wrap. */
class FakeTerminal {
  rows: string[] = [''];
  private row = 0;
  /** Lines longer than the width are allowed (they wrap on a real terminal). */
  wraps = false;
  constructor(readonly columns: number) {}

  write(chunk: string): boolean {
    for (const m of chunk.matchAll(/\x1b\[(\d*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g)) {
      const s = m[0];
      if (s === '\n') {
        this.row++;
        if (this.rows.length <= this.row) this.rows.push('');
      } else if (s === '\r') continue;
      else if (m[2] === 'A') this.row = Math.max(0, this.row - Number(m[1] || 1));
      else if (m[2] === 'J') this.rows = [...this.rows.slice(0, this.row), ''];
      else if (m[2] === 'm') continue;
      else {
        this.rows[this.row] += s;
        if (!this.wraps && this.rows[this.row].length >= this.columns) throw new Error(`a line of ${this.rows[this.row].length} in ${this.columns} columns: ${this.rows[this.row]}`);
      }
    }
    return true;
  }

  screen(): string[] {
    return this.rows.filter((r, i) => r !== '' || i < this.rows.length - 1);
  }
}

test('formatBytes counts as BuildKit does (decimal units, two decimals)', (t) => {
  t.is(formatBytes(0), '0B');
  t.is(formatBytes(999), '999B');
  t.is(formatBytes(30_050), '30.05kB');
  t.is(formatBytes(45_600_000), '45.60MB');
  t.is(formatBytes(3_400_000_000), '3.40GB');
});

test('a task sends task-start with its first blob, folds byte updates closer than 100 ms, and one done per blob', (t) => {
  const events: BuildEvent[] = [];
  let now = 1000;
  let id = 6;
  const task = new ProgressTask((e) => events.push(e), () => ++id, 'pulling x', () => now);
  task.done();
  t.is(events.length, 0, 'a task that moved nothing shows nothing');
  const m = task.blob(D1, 1000);
  for (let i = 0; i < 10; i++) {
    now += 20;
    m.add(50);
  }
  now += 300;
  m.add(500);
  m.done();
  m.add(1); // after done: ignored
  task.settled(D2, 77, 'cached');
  task.done();
  t.deepEqual(events, [
    { type: 'task-start', id: 7, text: 'pulling x' },
    { type: 'blob', id: 7, digest: D1, total: 1000, current: 0, seconds: 0, done: false },
    { type: 'blob', id: 7, digest: D1, total: 1000, current: 250, seconds: 0.1, done: false },
    { type: 'blob', id: 7, digest: D1, total: 1000, current: 500, seconds: 0.2, done: false },
    { type: 'blob', id: 7, digest: D1, total: 1000, current: 1000, seconds: 0.5, done: false },
    { type: 'blob', id: 7, digest: D1, total: 1000, current: 1000, seconds: 0.5, done: true },
    { type: 'blob', id: 7, digest: D2, total: 77, current: 0, seconds: 0, done: true, note: 'cached' },
    { type: 'task-done', id: 7, seconds: 0.5 },
  ]);
});

test('pull and push events become blob progress: cached, exists and mounted settle without bytes', (t) => {
  const events: BuildEvent[] = [];
  let n = 0;
  const start = taskStarter((e) => events.push(e), () => ++n, () => 0);
  const pull = pullProgress(start('pulling a'));
  pull({ kind: 'resolved', reference: 'a', digest: D1, source: 'r/a' });
  pull({ kind: 'blob', digest: D1, size: 10, cached: true });
  pull({ kind: 'blob', digest: D2, size: 20, cached: false });
  pull({ kind: 'progress', digest: D2, bytes: 20 });
  pull({ kind: 'blob-done', digest: D2 });
  const push = pushProgress(start('pushing b'));
  push({ kind: 'blob', digest: D1, size: 10, outcome: 'exists' });
  push({ kind: 'blob-start', digest: D2, size: 20 });
  push({ kind: 'blob', digest: D2, size: 20, outcome: 'mounted' });
  const blobs = events.filter((e): e is Extract<BuildEvent, { type: 'blob' }> => e.type === 'blob' && e.done);
  t.deepEqual(blobs.map((e) => [e.id, e.digest, e.note ?? `${e.current}/${e.total}`]), [
    [1, D1, 'cached'],
    [1, D2, '20/20'],
    [2, D1, 'exists'],
    [2, D2, 'mounted'],
  ]);
});

const transfer: BuildEvent[] = [
  { type: 'task-start', id: 4, text: 'pulling 127.0.0.1:5000/lib/busybox:latest' },
  { type: 'blob', id: 4, digest: D1, total: 45_600_000, current: 0, seconds: 0, done: false },
  { type: 'blob', id: 4, digest: D1, total: 45_600_000, current: 12_300_000, seconds: 3.2, done: false },
  { type: 'blob', id: 4, digest: D2, total: 1234, current: 0, seconds: 0, done: true, note: 'cached' },
  { type: 'blob', id: 4, digest: D1, total: 45_600_000, current: 45_600_000, seconds: 9.04, done: true },
  { type: 'task-done', id: 4, seconds: 9.5 },
  { type: 'build-done', seconds: 12.34, imageId: `sha256:${'c3'.repeat(32)}`, size: 45_601_234, steps: 7, cached: 4 },
];

test('plain: one line per blob when it starts and when it is done, BuildKit style, then the summary', (t) => {
  const { out, text } = sink();
  const report = plainReporter(out);
  transfer.forEach(report);
  t.deepEqual(text().split('\n'), [
    '#4 pulling 127.0.0.1:5000/lib/busybox:latest',
    `#4 ${D1} 0B / 45.60MB`,
    `#4 ${D2} 1.23kB already in the store`,
    `#4 ${D1} 45.60MB / 45.60MB 9.0s done`,
    '#4 DONE 9.5s',
    `FINISHED 12.3s  sha256:${'c3'.repeat(6)}  45.60MB  cached 4/7`,
    '',
  ]);
});

test('json: blob events are json lines with a time; quiet prints none of it', (t) => {
  const json = sink();
  const report = progressReporter('json', json.out);
  transfer.forEach(report);
  const lines = json.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, transfer.length);
  t.like(lines[2], { type: 'blob', id: 4, digest: D1, current: 12_300_000, total: 45_600_000, done: false });
  t.like(lines[6], { type: 'build-done', steps: 7, cached: 4 });
  t.true(lines.every((l) => typeof l.time === 'number'));
  const quiet = sink();
  const q = progressReporter('quiet', quiet.out);
  transfer.forEach(q);
  t.is(quiet.text(), '');
});

test('tty: a blob in flight shows bytes, a rate and its time; done, the task stays above with each blob', (t) => {
  const term = new FakeTerminal(100);
  let now = 0;
  const r = new TtyRenderer(term, { refreshMs: 0, now: () => now });
  transfer.slice(0, 4).forEach((e) => r.handle(e));
  t.deepEqual(term.screen(), [
    '=> #4 pulling 127.0.0.1:5000/lib/busybox:latest 0.0s',
    '=> => sha256:a1a1a1a1a1a1 12.30MB / 45.60MB 3.84MB/s 3.2s',
    '=> => 1/2 blobs done',
  ]);
  now += 1000;
  r.handle({ type: 'info', message: 'hello' });
  t.deepEqual(term.screen().slice(1), [
    '=> #4 pulling 127.0.0.1:5000/lib/busybox:latest 1.0s',
    '=> => sha256:a1a1a1a1a1a1 12.30MB / 45.60MB 2.93MB/s 4.2s',
    '=> => 1/2 blobs done',
  ], 'the clocks run between events');
  transfer.slice(4).forEach((e) => r.handle(e));
  t.deepEqual(term.screen(), [
    'hello',
    '=> #4 pulling 127.0.0.1:5000/lib/busybox:latest 9.5s',
    '=> => sha256:a1a1a1a1a1a1 45.60MB / 45.60MB 9.0s done',
    '=> => sha256:b2b2b2b2b2b2 1.23kB already in the store',
    `FINISHED 12.3s  sha256:${'c3'.repeat(6)}  45.60MB  cached 4/7`,
  ]);
});

const steps: BuildEvent[] = [
  { type: 'step-start', id: 12, stage: 'builder', index: 3, total: 7, text: 'RUN apt-get update && apt-get install -y build-essential' },
  { type: 'step-start', id: 13, stage: 'builder', index: 4, total: 7, text: 'COPY . /src' },
  { type: 'task-start', id: 14, text: 'pulling docker.io/library/debian:bookworm' },
  { type: 'blob', id: 14, digest: D1, total: 45_600_000, current: 12_300_000, seconds: 3.2, done: false },
];

for (const width of [40, 20]) {
  test(`tty at ${width} columns: names are cut, never the time, CACHED or a blob's time`, (t) => {
    const term = new FakeTerminal(width);
    let now = 0;
    const r = new TtyRenderer(term, { refreshMs: 0, now: () => now });
    steps.forEach((e) => r.handle(e));
    now += 12_345;
    r.handle({ type: 'info', message: 'x' });
    const live = term.screen().slice(1);
    t.is(live.length, 4, live.join('\n'));
    t.true(live.every((l) => l.length < width), live.join('\n'));
    t.regex(live[0], / 12\.3s$/);
    t.regex(live[1], / 12\.3s$/);
    t.regex(live[2], / 12\.3s$/);
    t.regex(live[3], / 15\.5s$/, 'the blob line keeps its time');
    if (width === 40) {
      t.is(live[0], '=> #12 [builder 3/7] RUN apt-g... 12.3s');
      t.is(live[3], '=> => sha256:a1a1a1a1a1a1 12.30MB 15.5s');
    }
    r.handle({ type: 'step-done', id: 13, cached: true, seconds: 0 });
    r.handle({ type: 'step-done', id: 12, cached: false, seconds: 83.21 });
    const done = term.screen().slice(1, 3);
    t.regex(done[0], / CACHED$/);
    t.regex(done[1], / 83\.2s$/);
    t.true(done.every((l) => l.length < width), done.join('\n'));
    // The summary is printed whole (it may wrap: nothing live is drawn under it).
    term.wraps = true;
    r.handle(transfer[6]);
    t.true(term.screen().includes(summaryLine(transfer[6] as Extract<BuildEvent, { type: 'build-done' }>)), term.screen().join('\n'));
  });
}

test('tty through progressReporter: $COLUMNS is the width, over the stream\'s own', (t) => {
  const term = new FakeTerminal(200);
  const before = process.env.COLUMNS;
  process.env.COLUMNS = '40';
  try {
    const report = progressReporter('tty', term as unknown as NodeJS.WritableStream);
    report({ type: 'step-start', id: 1, stage: 'stage-0', index: 1, total: 1, text: `RUN ${'y'.repeat(100)}` });
    report({ type: 'step-done', id: 1, cached: true, seconds: 0 });
    report.close();
    const [line] = term.screen();
    t.true(line.length <= 39, line);
    t.regex(line, /^=> #1 \[stage-0 1\/1\] RUN y+\.\.\. CACHED$/);
  } finally {
    if (before === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = before;
  }
});

test('tty: redraws come from the timer (at most ~10/s), not from each event', async (t) => {
  const term = new FakeTerminal(80);
  let writes = 0;
  const counting = { columns: 80, write: (s: string) => (writes++, term.write(s)) };
  const r = new TtyRenderer(counting, { refreshMs: 100 });
  r.handle({ type: 'step-start', id: 1, stage: 's', index: 1, total: 1, text: 'RUN chatty' });
  for (let i = 0; i < 5000; i++) r.handle({ type: 'step-output', id: 1, stream: 'stdout', data: Buffer.from(`line ${i}\n`) });
  t.is(writes, 0, 'nothing drawn synchronously');
  const started = Date.now();
  while (!term.screen().includes('   line 4999') && Date.now() - started < 3000) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const elapsed = Date.now() - started;
  // One write per tick at most (erase and draw go out together), ten ticks a second.
  t.true(writes >= 1 && writes <= Math.ceil(elapsed / 100) + 1, `${writes} writes in ${elapsed} ms`);
  t.true(term.screen().includes('   line 4999'));
  r.close();
});
