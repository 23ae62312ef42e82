// Adversarial: a pull request's .dockerignore is as hostile as its Dockerfile. Its patterns were
// RegExps, and V8's backtracking made `**/**/**/**/**/**/a*a*a*a*a*b` take ~10 s for ONE path of
// 50 characters (and it is tried on every context entry and each of its parents): a CI builder
// held for hours, the event loop blocked, no signal handled. The patterns are now matched by
// glob.ts's automaton (time linear in pattern × path). Run as the unprivileged test user: the
// build must finish well under a bound, exclude what the patterns say, and leave the context as
// it was.
import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { changes, fingerprint } from '../helpers/tree-fingerprint.js';

const BOUND_MS = 40_000; // start-up, the context walk and one COPY and RUN on a busy 2-core machine
const KILL_MS = 150_000; // the RegExp matcher needed minutes: stop it rather than wait

/** nbuild in a process group of its own, SIGKILLed whole after KILL_MS (a blocked Node handles no SIGTERM). */
function run(args: string[]): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const child = spawn(path.join(projectRoot, 'bin', 'nbuild'), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, KILL_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, killed, stdout, stderr, ms: Date.now() - began });
    });
  });
}

test('a hostile .dockerignore (backtracking patterns, deep long names) is matched in bounded time', async (t) => {
  t.timeout(KILL_MS + 60_000);
  const store = await storeWithBusybox();
  const ctx = tempDir('hostile-ignore');
  const deep = 'x/'.repeat(12);
  const files: Record<string, string> = {
    Dockerfile: 'FROM busybox\nCOPY . /ctx\nRUN cd /ctx && find . -type f | sort\n',
    '.dockerignore': [
      '**/**/**/**/**/**/a*a*a*a*a*b',
      '*a*a*a*a*a*a*a*a*a*a*c',
      '**/**/**/**/**/**/**/**/**/**/y',
      '**/*a*/**/*a*/**/*a*/**/*a*d',
      '!**/**/**/**/keep*a*a*a*a*a*z',
      '',
    ].join('\n'),
    // Each caught by a pattern above only at its very end, after every backtracking choice.
    'axaxaxaxab': 'excluded\n',
    [`${deep}aXaYaZaWab`]: 'excluded\n',
    [`${deep}${'a'.repeat(40)}b`]: 'excluded\n',
    [`${deep}y`]: 'excluded\n',
    [`${deep}keep-a-a-a-a-a-z`]: 'kept\n',
  };
  for (let i = 0; i < 8; i++) files[`${deep}${'a'.repeat(36 + i)}`] = 'kept\n';
  writeFiles(ctx, files);
  const before = fingerprint(ctx);
  const r = await run(['--root', store, 'build', '--progress', 'plain', '--no-cache', ctx]);
  t.false(r.killed, `killed after ${KILL_MS} ms: the matcher backtracks`);
  t.is(r.code, 0, r.stderr);
  t.true(r.ms < BOUND_MS, `${r.ms} ms`);
  t.deepEqual(changes(before, fingerprint(ctx)), [], 'the context is unchanged');
  const listed = (r.stdout + r.stderr).split('\n').filter((l) => /^#\d+ \.\//.test(l)).map((l) => l.replace(/^#\d+ /, ''));
  const expected = ['./Dockerfile', './.dockerignore', `./${deep}keep-a-a-a-a-a-z`, ...Array.from({ length: 8 }, (_, i) => `./${deep}${'a'.repeat(36 + i)}`)].sort();
  t.deepEqual(listed, expected);
});
