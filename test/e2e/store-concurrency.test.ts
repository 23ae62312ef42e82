// SPEC §Store and cache under stress, through bin/nbuild as an unprivileged user:
// builds at once on one store, and builds killed with SIGKILL at random (seeded)
// moments. The store must stay usable, `store check` clean, names never dangling,
// and temp folders of dead builds gone after the next run.
import test from 'ava';
import { seededRandom } from '../helpers/prng.js';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

const bin = path.join(projectRoot, 'bin', 'nbuild');

const prng = seededRandom;

/** A context whose Dockerfile has RUN and COPY steps that differ by `n` (so nothing is cached across n). */
function context(n: number): string {
  const dir = tempDir(`conc-${n}`);
  writeFiles(dir, {
    Dockerfile: `FROM busybox:latest\nRUN echo run-${n} > /run-${n} && mkdir -p /data\nCOPY payload.txt /data/payload-${n}.txt\nRUN cat /data/payload-${n}.txt > /data/copied && ls /data > /data/list\n`,
    'payload.txt': `payload ${n}\n${'x'.repeat(1000 * (n % 7))}\n`,
  });
  return dir;
}

interface Refs {
  images: Record<string, unknown>;
  names: Record<string, string>;
}

function blobExists(root: string, digest: string): boolean {
  return fs.existsSync(path.join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
}

/** Every name points at an image whose manifest, config and layer blobs are all present. */
function danglingNames(root: string): string[] {
  const file = path.join(root, 'refs.json');
  if (!fs.existsSync(file)) return [];
  const refs = JSON.parse(fs.readFileSync(file, 'utf8')) as Refs;
  const bad: string[] = [];
  for (const [name, digest] of Object.entries(refs.names)) {
    if (!blobExists(root, digest)) {
      bad.push(`${name}: manifest ${digest} missing`);
      continue;
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) if (!blobExists(root, d)) bad.push(`${name}: blob ${d} missing`);
  }
  return bad;
}

/** Starts a build in its own process group and SIGKILLs the whole group after `ms` (the CLI re-execs into a user namespace). */
function buildAndKill(root: string, ctx: string, tag: string, ms: number): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--root', root, 'build', '--progress', 'plain', '-t', tag, ctx], { detached: true, stdio: 'ignore' });
    let killed = false;
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
        killed = true;
      } catch {
        // already gone
      }
    }, ms);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      // The group may hold the inner (user-namespace) process still: make sure it is gone too.
      setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // none left
        }
        resolve({ killed, code });
      }, 50);
    });
  });
}

test('four builds at once on one store all succeed and the store checks clean', async (t) => {
  const root = await storeWithBusybox();
  const results = await Promise.all([1, 2, 3, 4].map((n) => nbuild(['--root', root, 'build', '--progress', 'plain', '-t', `conc:${n}`, context(n)])));
  results.forEach((r, i) => t.is(r.code, 0, `build ${i + 1}: ${r.stderr}`));
  const check = await nbuild(['--root', root, 'store', 'check']);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.regex(check.stdout, /0 problem/);
  for (const n of [1, 2, 3, 4]) {
    const r = await nbuild(['--root', root, 'inspect', `conc:${n}`]);
    t.is(r.code, 0, r.stderr);
  }
  t.deepEqual(danglingNames(root), []);
  // A rebuild of one of them is fully cached: the concurrent writes left usable records.
  const again = await nbuild(['--root', root, 'build', '--progress', 'plain', '-t', 'conc:2', context(2)]);
  t.is(again.code, 0, again.stderr);
  t.is((again.stderr.match(/CACHED/g) ?? []).length, 3, again.stderr);
});

test('20 builds killed with SIGKILL at random moments leave a usable store', async (t) => {
  const seed = Number(process.env.NBUILD_KILL_SEED ?? 7);
  const random = prng(seed);
  const root = await storeWithBusybox();
  // How long one uncached build takes here: kill moments spread over all of it (start-up,
  // the user-namespace re-exec, RUN, COPY, commit, tagging), whatever the machine's speed.
  // The first build also unpacks the base layer, which the killed ones find done: time the second.
  const warm = await nbuild(['--root', root, 'build', '--progress', 'plain', '-t', 'warm', context(98)]);
  t.is(warm.code, 0, warm.stderr);
  const started = Date.now();
  const calibrate = await nbuild(['--root', root, 'build', '--progress', 'plain', '-t', 'calibrate', context(99)]);
  t.is(calibrate.code, 0, calibrate.stderr);
  // The calibration may have met a load spike: a build that ends before its kill moment shows
  // how long builds take now, and later moments are drawn within that.
  let span = Date.now() - started;
  let killedCount = 0;
  for (let i = 0; i < 20; i++) {
    const ms = Math.floor(random() * span);
    const t0 = Date.now();
    const r = await buildAndKill(root, context(100 + i), `killed:${i}`, ms);
    if (r.killed) killedCount++;
    else span = Math.min(span, Date.now() - t0);
    t.deepEqual(danglingNames(root), [], `after kill ${i} at ${ms} ms (seed ${seed})`);
  }
  t.log(`seed ${seed}: ${killedCount} of 20 builds killed, span ${span} ms`);
  t.true(killedCount >= 10, `only ${killedCount} of 20 builds were killed before they finished`);
  const ok = await nbuild(['--root', root, 'build', '--progress', 'plain', '-t', 'after:kills', context(1000)]);
  t.is(ok.code, 0, ok.stderr);
  const check = await nbuild(['--root', root, 'store', 'check']);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.deepEqual(danglingNames(root), []);
  // Nothing of the dead builds survives the runs that followed (both are gone, so nothing is live).
  const left = fs.readdirSync(path.join(root, 'tmp'));
  t.deepEqual(left, [], `left in ${root}/tmp`);
  t.false(fs.existsSync(path.join(root, 'lock')), 'no stale lock file');
});
