// --progress: the shape of plain, json, quiet and auto output from real builds,
// and the tty renderer as a unit against a fake terminal.
import test from 'ava';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { TtyRenderer } from '../../src/cli/progress-tty.js';

const dockerfile = `FROM busybox:latest
ENV GREETING=hello
RUN echo "$GREETING from run" && echo second line && echo to-stderr >&2
COPY a.txt /a.txt
`;

let root: string;
let ctx: string;

test.before(async () => {
  root = await storeWithBusybox();
  ctx = tempDir('progress-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile, 'a.txt': 'a\n' });
});

const imageId = /^sha256:[0-9a-f]{64}\n$/;

test.serial('plain: a line per step start, its output, DONE with seconds, then CACHED on a rebuild', async (t) => {
  const first = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, imageId, 'stdout holds only the image id');
  const lines = first.stderr.split('\n');
  const start = lines.find((l) => /^#\d+ \[stage-0 \d+\/\d+\] RUN echo/.test(l));
  t.truthy(start, first.stderr);
  const id = /^#(\d+)/.exec(start ?? '')?.[1];
  t.true(lines.includes(`#${id} hello from run`), first.stderr);
  t.true(lines.includes(`#${id} second line`), first.stderr);
  t.true(lines.includes(`#${id} to-stderr`), first.stderr);
  t.true(lines.some((l) => new RegExp(`^#${id} DONE \\d+\\.\\ds$`).test(l)), first.stderr);
  // Output comes after the step's start line and before its DONE.
  const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
  // (the step's name shows $GREETING expanded, as BuildKit names a RUN: match the output line)
  t.true(at(/^#\d+ \[stage-0 \d+\/\d+\] RUN/) < at(/^#\d+ hello from run$/));
  t.true(at(/^#\d+ hello from run$/) < at(new RegExp(`^#${id} DONE`)));

  const again = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx]);
  t.is(again.code, 0, again.stderr);
  const runLine = again.stderr.split('\n').find((l) => /\] RUN echo/.test(l));
  const againId = /^#(\d+)/.exec(runLine ?? '')?.[1];
  t.true(again.stderr.split('\n').includes(`#${againId} CACHED`), again.stderr);
  t.notRegex(again.stderr, /^#\d+ hello from run$/m, 'a cached step does not run');
});

test.serial('json: one event per line, with a time, start and done for every step', async (t) => {
  const r = await nbuild(['--root', root, 'build', '--no-cache', '--progress', 'json', ctx]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, imageId);
  const events = r.stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; id?: number; time: number; data?: string; cached?: boolean; seconds?: number });
  t.true(events.length > 0);
  for (const e of events) t.true(Number.isFinite(e.time) && e.time > 1.6e12, `event without a time: ${JSON.stringify(e)}`);
  const starts = events.filter((e) => e.type === 'step-start').map((e) => e.id);
  const dones = events.filter((e) => e.type === 'step-done').map((e) => e.id);
  t.true(starts.length >= 3);
  t.deepEqual([...dones].sort(), [...starts].sort());
  const output = events.filter((e) => e.type === 'step-output').map((e) => e.data).join('');
  t.regex(output, /hello from run\nsecond line\n/);
  t.true(events.filter((e) => e.type === 'step-done').every((e) => e.cached === false && typeof e.seconds === 'number'));
  // Time never goes backwards in the stream.
  for (let i = 1; i < events.length; i++) t.true(events[i].time >= events[i - 1].time);
});

test.serial('quiet: only the image id on stdout, nothing on stderr', async (t) => {
  const r = await nbuild(['--root', root, 'build', '--progress', 'quiet', ctx]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, imageId);
  t.is(r.stderr, '');
});

test.serial('quiet: a failing build still says why, on stderr', async (t) => {
  const bad = tempDir('progress-bad');
  writeFiles(bad, { Dockerfile: 'FROM busybox:latest\nRUN exit 3\n' });
  const r = await nbuild(['--root', root, 'build', '--progress', 'quiet', bad]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.regex(r.stderr, /Dockerfile:2/);
});

test.serial('auto without a terminal is plain', async (t) => {
  const r = await nbuild(['--root', root, 'build', '--progress', 'auto', '-f', path.join(ctx, 'Dockerfile'), ctx]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^#\d+ \[stage-0 \d+\/\d+\] RUN/m);
  t.notRegex(r.stderr, /\x1b\[/, 'no escape sequences when stderr is not a terminal');
});

/** A tiny terminal: enough of ANSI (cursor up, CR, clear to end, SGR) to see the screen. */
class FakeTerminal {
  readonly columns = 60;
  rows: string[] = [''];
  private row = 0;
  writes = 0;

  write(chunk: string): boolean {
    this.writes++;
    const re = /\x1b\[(\d*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g;
    for (const m of chunk.matchAll(re)) {
      const s = m[0];
      if (s === '\n') {
        this.row++;
        if (this.rows.length <= this.row) this.rows.push('');
      } else if (s === '\r') {
        // column tracking is not needed: we always write whole lines
      } else if (m[2] === 'A') this.row = Math.max(0, this.row - Number(m[1] || 1));
      else if (m[2] === 'J') this.rows = [...this.rows.slice(0, this.row), ''];
      else if (m[2] === 'm') continue;
      else this.rows[this.row] += s;
    }
    return true;
  }

  screen(): string[] {
    return this.rows.filter((r, i) => r !== '' || i < this.rows.length - 1);
  }
}

test('tty: running steps redraw in place with the last 5 output lines, finished steps stay above', (t) => {
  const term = new FakeTerminal();
  let now = 1_000_000;
  const r = new TtyRenderer(term, { refreshMs: 0, now: () => now, tailLines: 5 });
  r.handle({ type: 'step-start', id: 1, stage: 'stage-0', index: 1, total: 2, text: 'RUN make' });
  for (let i = 1; i <= 8; i++) r.handle({ type: 'step-output', id: 1, stream: 'stdout', data: Buffer.from(`line ${i}\n`) });
  r.handle({ type: 'step-output', id: 1, stream: 'stdout', data: Buffer.from('partial') });
  now += 2500;
  r.handle({ type: 'step-start', id: 2, stage: 'stage-0', index: 2, total: 2, text: 'COPY . /app' });
  t.deepEqual(term.screen(), [
    '=> #1 [stage-0 1/2] RUN make 2.5s',
    '   line 5',
    '   line 6',
    '   line 7',
    '   line 8',
    '   partial',
    '=> #2 [stage-0 2/2] COPY . /app 0.0s',
  ]);
  r.handle({ type: 'step-done', id: 2, cached: true, seconds: 0 });
  r.handle({ type: 'step-done', id: 1, cached: false, seconds: 3.21 });
  t.deepEqual(term.screen(), ['=> #2 [stage-0 2/2] COPY . /app CACHED', '=> #1 [stage-0 1/2] RUN make 3.2s']);
});

test('tty: a failed step keeps its output; long lines and escape codes cannot break the layout', (t) => {
  const term = new FakeTerminal();
  const r = new TtyRenderer(term, { refreshMs: 0, now: () => 0 });
  r.handle({ type: 'warning', message: 'Dockerfile:1: something odd' });
  r.handle({ type: 'step-start', id: 3, stage: 'build', index: 1, total: 1, text: `RUN ${'x'.repeat(200)}\nsecond line of a heredoc` });
  r.handle({ type: 'step-output', id: 3, stream: 'stderr', data: Buffer.from('\x1b[31mred\x1b[0m\tfailure\n') });
  const live = term.screen();
  t.true(live.every((l) => l.length < term.columns), live.join('\n'));
  // The name is cut, never the time.
  t.regex(live[1], /^=> #3 \[build 1\/1\] RUN x+\.\.\. 0\.0s$/);
  r.handle({ type: 'step-error', id: 3, message: 'exit code 1' });
  t.deepEqual(term.screen().slice(0, 1), ['WARNING: Dockerfile:1: something odd']);
  t.regex(term.screen()[1], /^=> ERROR #3 \[build 1\/1\] RUN x+\.\.\.$/);
  t.is(term.screen()[2], '   red    failure');
  t.is(term.screen()[3], '   exit code 1');
  t.is(term.screen().length, 4, 'nothing of the live area is left');
});
