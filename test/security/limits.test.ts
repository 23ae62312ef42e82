// Hostile Dockerfiles against nbuild's limits and signal handling (issue 13, rows 7, 8, 9, 11),
// run as the unprivileged test user. Each attack must end in one clear error naming its
// Dockerfile line, in bounded time and memory, with the store unchanged; a signal must end the
// build at any moment (exit 128+N within ~2 s) with Node and its launcher gone together.
// Serial: the times measured here must not include the other tests' builds.
import test, { type ExecutionContext } from 'ava';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, projectRoot, busyboxImage, storeWithBusybox, tempDir, writeFiles, hasCommand } from '../helpers/nbuild-cli.js';
import { changes, fingerprint, type Fingerprint } from '../helpers/tree-fingerprint.js';
import { build } from '../../src/build.js';
import { NbuildError } from '../../src/errors.js';

const bin = path.join(projectRoot, 'bin', 'nbuild');
const TIMES_TEN = (kw: string): string => `${kw} A=${'${A}'.repeat(10)}\n`;

// ---------------------------------------------------------------------------------------------
// Watching an nbuild process: its launcher (bin/nbuild execs it), the Node child, peak memory.

interface Watched {
  child: ChildProcess;
  stderr(): string;
  /** Resolves when nbuild has exited: status, signal, milliseconds since spawn. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Watched {
  const began = Date.now();
  const child = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, ms: Date.now() - began })),
  );
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The Node process the launcher started (after its exec). */
async function nodeOf(launcher: number): Promise<number> {
  let pid = 0;
  await waitFor('the Node process', () => {
    pid = childrenOf(launcher).find((c) => {
      try {
        return fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('nbuild');
      } catch {
        return false;
      }
    }) ?? 0;
    return pid !== 0;
  });
  return pid;
}

/** Peak resident memory (VmHWM, MB) of `pid`, sampled until it ends. */
function peakMemory(pid: number): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      clearInterval(timer);
    }
  }, 25);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/**
 * Kills what is left of a watched build (only on a failure: the test has already failed), its
 * Node child too: on the code before the fix, Node outlived a killed launcher.
 */
async function reap(w: Watched, node?: number): Promise<void> {
  const kids = w.child.pid ? childrenOf(w.child.pid) : [];
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  for (const pid of [...kids, node ?? 0]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  w.child.stdout?.destroy();
  w.child.stderr?.destroy();
  await w.exited;
}

/** Runs nbuild to its end, or kills it after `ms` (the code before the fix ran for ever). */
async function runBounded(args: string[], cwd: string, ms = 60_000): Promise<{ code: number | null; stderr: string; ms: number }> {
  const w = start(args, cwd);
  const killer = setTimeout(() => void reap(w), ms);
  const r = await w.exited;
  clearTimeout(killer);
  return { code: r.code, stderr: w.stderr(), ms: r.ms };
}

// ---------------------------------------------------------------------------------------------
// The store: fingerprinted before and after an attack (test/helpers/tree-fingerprint.ts).

/**
 * Every entry of the store but its tmp folder, which holds only a run's work dirs (checked empty
 * below), and the root's own times (its lock file comes and goes with every command).
 */
const outsideTmp = (rel: string): boolean => rel !== '' && rel !== 'tmp' && !rel.startsWith('tmp/');

function tmpLeftovers(root: string): string[] {
  return fs.readdirSync(path.join(root, 'tmp')).filter((n) => !n.startsWith('session-'));
}

async function expectStoreClean(t: ExecutionContext, root: string, before?: Fingerprint): Promise<void> {
  const check = await nbuild(['--root', root, 'store', 'check']);
  t.is(check.code, 0, `store check: ${check.stdout}${check.stderr}`);
  t.regex(check.stdout + check.stderr, / 0 problem\(s\)/);
  if (before !== undefined) t.deepEqual(changes(before, fingerprint(root), outsideTmp), [], 'the store is unchanged');
  t.deepEqual(tmpLeftovers(root), [], 'nothing is left in the store tmp folder');
}

/** One `nbuild:` line on stderr, naming FILE:LINE, no stack trace. */
function expectOneError(t: ExecutionContext, stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(lines.length, 1, stderr.slice(-2000));
  t.regex(lines[0] ?? '', pattern);
  t.notRegex(stderr, /internal error|\n\s+at /, 'no internal error, no stack trace');
}

function context(name: string, files: Record<string, string>): string {
  const dir = tempDir(`limits-${name}`);
  writeFiles(dir, files);
  return dir;
}

let shared: string | undefined;
/** One busybox store for the tests that only read it. */
async function busyboxStore(): Promise<string> {
  shared ??= await storeWithBusybox();
  return shared;
}

// ---------------------------------------------------------------------------------------------
// Row 7: the expansion bomb.

test.serial('an expansion bomb fails at its line in seconds, in bounded memory, and check reports it', async (t) => {
  const root = await busyboxStore();
  const before = fingerprint(root);
  const ctx = context('bomb', { Dockerfile: 'FROM busybox\nENV A=x\n' + TIMES_TEN('ENV').repeat(9) + 'RUN echo never\n' });
  const w = start(['--root', root, 'build', '--progress', 'plain', '-t', 'bomb:1', '.'], ctx);
  const node = await nodeOf(w.child.pid as number).catch(() => undefined);
  const peak = node ? peakMemory(node) : () => 0;
  const killer = setTimeout(() => void reap(w, node), 30_000);
  const r = await w.exited;
  clearTimeout(killer);
  const mb = peak();
  t.log(`bomb: exit ${r.code} after ${r.ms} ms, peak ${mb.toFixed(0)} MB`);
  t.true(r.ms < 10_000, `failed after ${r.ms} ms`);
  t.is(r.code, 1);
  t.true(mb < 400, `peak memory ${mb} MB`);
  // 10^7 characters on line 9 (10^6 on line 8 is below 1 MiB)
  expectOneError(t, w.stderr(), /^nbuild: Dockerfile:9: ENV: the expanded word is longer than 1048576 characters \(1 MiB\), nbuild's limit$/);
  await expectStoreClean(t, root, before);

  const check = await nbuild(['check', '-f', path.join(ctx, 'Dockerfile')], { cwd: ctx });
  t.is(check.code, 1, check.stdout + check.stderr);
  t.regex(check.stdout, /Dockerfile:9: error: ENV: the expanded word is longer than 1048576 characters/);
});

test.serial("a big value repeated in LABELs is stopped by the build's history bound, with its line", async (t) => {
  const root = await busyboxStore();
  const before = fingerprint(root);
  // A ≈ 1,000,000 characters (line 8), then LABELs that each put it in the config and history
  const dockerfile = 'FROM scratch\nENV A=x\n' + TIMES_TEN('ENV').repeat(6) + Array.from({ length: 80 }, (_, i) => `LABEL l${i}=$A\n`).join('');
  const ctx = context('labels-big', { Dockerfile: dockerfile });
  const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '-t', 'big:1', '.'], ctx);
  t.is(r.code, 1, r.stderr.slice(-500));
  // 64 MiB of history: about the 66th LABEL crosses it (each entry is ~1,000,010 characters)
  expectOneError(t, r.stderr, /^nbuild: Dockerfile:7\d: the build's steps describe more than 67108864 characters of image history/);
  await expectStoreClean(t, root, before);
});

// ---------------------------------------------------------------------------------------------
// Deliver 3: stage and step counts, recursion, O(n) in steps.

test.serial('10,000 chained stages build (no stack overflow); 10,001 are refused at the line of the last', async (t) => {
  const root = await busyboxStore();
  const lines = ['FROM scratch AS s0', 'LABEL first=1'];
  for (let i = 1; i < 10_000; i++) lines.push(`FROM s${i - 1} AS s${i}`);
  const ok = context('chain', { Dockerfile: lines.join('\n') + '\n' });
  const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '-t', 'chain:1', '.'], ok);
  t.is(r.code, 0, r.stderr.slice(-500));
  const inspect = await nbuild(['--root', root, 'inspect', 'chain:1']);
  t.regex(inspect.stdout, /"first": "1"/);
  const before = fingerprint(root);
  const over = context('chain-over', { Dockerfile: lines.join('\n') + '\nFROM s9999\n' });
  const r2 = await runBounded(['--root', root, 'build', '--progress', 'quiet', '.'], over);
  t.is(r2.code, 1);
  expectOneError(t, r2.stderr, /^nbuild: Dockerfile:10002: more than 10000 build stages, nbuild's limit/);
  await expectStoreClean(t, root, before);
});

test.serial('100,001 instructions are refused at once, at the line of the one over', async (t) => {
  const root = await busyboxStore();
  const before = fingerprint(root);
  const ctx = context('steps', { Dockerfile: 'FROM scratch\n' + Array.from({ length: 100_000 }, (_, i) => `LABEL l${i}=v`).join('\n') + '\n' });
  const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '.'], ctx);
  t.is(r.code, 1, r.stderr.slice(-300));
  expectOneError(t, r.stderr, /^nbuild: Dockerfile:100001: more than 100000 instructions, nbuild's limit/);
  await expectStoreClean(t, root, before);
});

test.serial('LABEL steps cost O(n): 80,000 take well under 16× the time of 20,000', async (t) => {
  const root = await busyboxStore();
  const time = async (n: number): Promise<number> => {
    const ctx = context(`labels-${n}`, { Dockerfile: 'FROM scratch\n' + Array.from({ length: n }, (_, i) => `LABEL l${i}=v${i}`).join('\n') + '\n' });
    const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '--no-cache', '.'], ctx, 90_000);
    t.is(r.code, 0, r.stderr.slice(-300));
    return r.ms;
  };
  const small = await time(20_000);
  const large = await time(80_000);
  t.log(`20,000 LABELs: ${small} ms; 80,000: ${large} ms`);
  // linear is ~4× (plus start-up), quadratic 16×
  t.true(large < small * 8, `20k: ${small} ms, 80k: ${large} ms`);
});

// ---------------------------------------------------------------------------------------------
// Row 8: signals at any moment.

const LABELS_50K = 'FROM scratch\n' + Array.from({ length: 50_000 }, (_, i) => `LABEL l${i}=v${i}`).join('\n') + '\n';

/** After a signal: exit 128+N quickly, no Node left (by PID), the store clean and without the tag. */
async function expectStopped(t: ExecutionContext, w: Watched, node: number | undefined, sentAt: number, root: string, status: number): Promise<void> {
  const killer = setTimeout(() => void reap(w, node), 30_000);
  const r = await w.exited;
  clearTimeout(killer);
  const after = Date.now() - sentAt;
  t.log(`exit ${r.code ?? r.signal} ${after} ms after the signal`);
  t.true(after < 2_500, `exited ${after} ms after the signal`);
  t.true(r.code === status || (r.code === null && r.signal !== null), `exit ${r.code} / ${r.signal}: ${w.stderr().slice(-300)}`);
  if (node !== undefined) {
    await waitFor('Node to be gone', () => !alive(node), 2_000).catch(() => undefined);
    t.false(alive(node), `the Node process ${node} outlived its launcher`);
  }
  t.notRegex(w.stderr(), /internal error|\n\s+at /);
  await expectStoreClean(t, root);
  const images = await nbuild(['--root', root, 'images']);
  t.notRegex(images.stdout, /signalled/, 'no image was tagged');
}

test.serial('SIGTERM at start-up (before the build, while parsing) stops the build: 143, no orphan, store clean', async (t) => {
  const root = await busyboxStore();
  const ctx = context('sig-start', { Dockerfile: 'FROM scratch\n' + Array.from({ length: 3_000 }, (_, i) => `LABEL l${i}=v${i}`).join('\n') + '\n' });
  // (1) at once: before Node or its handlers exist
  const early = start(['--root', root, 'build', '--progress', 'plain', '-t', 'signalled:1', '.'], ctx);
  early.child.kill('SIGTERM');
  await expectStopped(t, early, undefined, Date.now(), root, 143);
  // (2) once the build has started (handlers in, parsing, executor not yet running)
  const w = start(['--root', root, 'build', '--progress', 'plain', '-t', 'signalled:1', '.'], ctx, { NBUILD_TRACE: '1' });
  const node = await nodeOf(w.child.pid as number);
  await waitFor('the build to start', () => /nbuild-trace \S+ build: start/.test(w.stderr()));
  w.child.kill('SIGTERM');
  await expectStopped(t, w, node, Date.now(), root, 143);
  // (3) exactly between the handler and the executor: the build API with a signal already aborted
  const store = path.join(tempDir('sig-api'), 'store');
  const reason = new NbuildError('INTERRUPTED', 'interrupted by SIGTERM', { exitCode: 143 });
  await t.throwsAsync(build({ storeRoot: store, contextDir: ctx, signal: AbortSignal.abort(reason) }), { is: reason });
  t.false(fs.existsSync(store), 'the store was not even opened');
});

test.serial('SIGTERM during 50,000 metadata steps stops the build within ~2 s; so does the death of the launcher', async (t) => {
  const root = await busyboxStore();
  const ctx = context('sig-meta', { Dockerfile: LABELS_50K });
  const w = start(['--root', root, 'build', '--progress', 'plain', '--no-cache', '-t', 'signalled:1', '.'], ctx);
  const node = await nodeOf(w.child.pid as number);
  await waitFor('step 200', () => w.stderr().includes('#200 ['), 120_000);
  w.child.kill('SIGTERM');
  await expectStopped(t, w, node, Date.now(), root, 143);
  t.regex(w.stderr(), /nbuild: interrupted by SIGTERM/);

  // The launcher SIGKILLed: Node is told (PDEATHSIG) and must not live on as an orphan.
  const w2 = start(['--root', root, 'build', '--progress', 'plain', '--no-cache', '-t', 'signalled:1', '.'], ctx);
  const node2 = await nodeOf(w2.child.pid as number);
  await waitFor('step 200', () => w2.stderr().includes('#200 ['), 120_000);
  w2.child.kill('SIGKILL');
  const sent = Date.now();
  await w2.exited;
  await waitFor('Node to follow its launcher', () => !alive(node2), 2_500).catch(() => undefined);
  t.log(`Node gone ${Date.now() - sent} ms after its launcher was killed`);
  t.false(alive(node2), `Node ${node2} outlived its launcher`);
  if (alive(node2)) process.kill(node2, 'SIGKILL');
  await expectStoreClean(t, root);
});

test.serial('SIGTERM during a RUN stops it within ~2 s: no sleep, no Node left, store clean', async (t) => {
  const root = await storeWithBusybox();
  const marker = `${3000 + (process.pid % 1000)}.${Date.now() % 100000}`;
  const ctx = context('sig-run', { Dockerfile: `FROM busybox:latest\nRUN echo start && sleep ${marker}\n` });
  const w = start(['--root', root, 'build', '--progress', 'plain', '-t', 'signalled:1', '.'], ctx);
  const node = await nodeOf(w.child.pid as number);
  const sleeping = (): boolean => execFileSync('ps', ['-eo', 'args']).toString().split('\n').some((l) => l.trim() === `sleep ${marker}`);
  await waitFor('the RUN to start', sleeping, 60_000);
  w.child.kill('SIGTERM');
  await expectStopped(t, w, node, Date.now(), root, 143);
  t.false(sleeping(), 'the RUN command is gone');
});

// ---------------------------------------------------------------------------------------------
// Row 9: a base image whose config has no history.

/** The busybox OCI archive, as an OCI layout whose config has no `history`. */
function busyboxWithoutHistory(): string {
  const dir = tempDir('nohistory');
  execFileSync('tar', ['-xf', busyboxImage(), '-C', dir]);
  const blob = (d: string): string => path.join(dir, 'blobs', ...d.split(':'));
  const put = (value: unknown, mediaType: string): { mediaType: string; digest: string; size: number } => {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    fs.writeFileSync(blob(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
  delete config.history;
  manifest.config = put(config, manifest.config.mediaType);
  const desc = put(manifest, index.manifests[0].mediaType ?? 'application/vnd.oci.image.manifest.v1+json');
  index.manifests = [{ ...desc, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }];
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

test.serial('FROM an image without history builds, and skopeo and umoci read the result', async (t) => {
  const root = await busyboxStore();
  const base = busyboxWithoutHistory();
  const ctx = context('nohistory', { Dockerfile: `FROM oci:${base}:latest\nRUN echo made > /made\nCOPY f /f\nLABEL x=y\n`, f: 'file\n' });
  const out = path.join(tempDir('nohistory-out'), 'layout');
  const r = await runBounded(['--root', root, 'build', '--progress', 'plain', '-t', 'nohistory:v1', '-o', `type=oci-layout,dest=${out}`, '.'], ctx);
  t.is(r.code, 0, r.stderr.slice(-800));
  if (!hasCommand('skopeo') || !hasCommand('umoci')) return t.fail('skopeo/umoci are not installed (scripts/setup-host.sh installs them)');
  const info = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${out}:v1`]).toString());
  t.is(info.Layers.length, 3, 'the base layer, RUN and COPY');
  const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${out}:v1`]).toString());
  const nonEmpty = (config.history as { empty_layer?: boolean }[]).filter((h) => !h.empty_layer);
  t.is(nonEmpty.length, 3, 'one history entry per layer');
  t.regex(String(config.history[0].created_by), /base layer/);
  const bundle = path.join(tempDir('nohistory-umoci'), 'bundle');
  execFileSync('umoci', ['unpack', '--rootless', '--image', `${out}:v1`, bundle], { stdio: 'pipe' });
  t.is(fs.readFileSync(path.join(bundle, 'rootfs', 'made'), 'utf8'), 'made\n');
  t.is(fs.readFileSync(path.join(bundle, 'rootfs', 'f'), 'utf8'), 'file\n');
});

// ---------------------------------------------------------------------------------------------
// Row 11: cache ids, ids and sizes out of range, --from cycles, sources outside, ENOSPC.

test.serial('cache-mount ids that share their first 60 bytes are different caches', async (t) => {
  const root = await storeWithBusybox();
  const prefix = 'p'.repeat(60);
  const ctx = context('cacheid', {
    Dockerfile: `FROM busybox\nRUN --mount=type=cache,id=${prefix}one,target=/c echo secret > /c/left-by-one\nRUN --mount=type=cache,id=${prefix}two,target=/c test ! -e /c/left-by-one\n`,
  });
  const r = await runBounded(['--root', root, 'build', '--progress', 'plain', '.'], ctx);
  t.is(r.code, 0, r.stderr.slice(-800));
});

test.serial('RUN mount ids, modes and sizes out of range: one error with the line; check refuses them', async (t) => {
  const root = await busyboxStore();
  const cases: [string, RegExp, boolean][] = [
    ['RUN --mount=type=cache,target=/c,uid=4294967296 true', /^nbuild: Dockerfile:2: invalid value for uid: 4294967296 is out of range/, true],
    ['RUN --mount=type=cache,target=/c,mode=777777 true', /^nbuild: Dockerfile:2: invalid value for mode: 777777 is out of range/, true],
    ['RUN --mount=type=tmpfs,target=/t,size=99999999999999p true', /^nbuild: Dockerfile:2: invalid value for size: 99999999999999p is too large/, true],
    // in range, but not an id of the user namespace (its subordinate range is 65,536 ids)
    ['RUN --mount=type=cache,id=unmapped,target=/c,uid=3000000000 true', /^nbuild: Dockerfile:2: RUN --mount=type=cache,uid=3000000000,gid=0: not an id of nbuild's user namespace/, false],
  ];
  // A RUN probes the host and unpacks busybox once (store caches, not the attack's doing): first.
  const warm = await nbuild(['--root', root, 'build', '--progress', 'quiet', '.'], { cwd: context('warm', { Dockerfile: 'FROM busybox\nRUN true\n' }) });
  t.is(warm.code, 0, warm.stderr);
  const before = fingerprint(root);
  for (const [line, message, statically] of cases) {
    const ctx = context('ranges', { Dockerfile: `FROM busybox\n${line}\n` });
    const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '.'], ctx);
    t.is(r.code, 1, line);
    expectOneError(t, r.stderr, message);
    const check = await nbuild(['check'], { cwd: ctx });
    t.is(check.code, statically ? 1 : 0, `check: ${line}: ${check.stdout}`);
    if (statically) t.regex(check.stdout, /Dockerfile:2: error: invalid value/);
  }
  await expectStoreClean(t, root, before);
});

test.serial('COPY --from cycles and later stages: an error at the line, no image pulled; check agrees', async (t) => {
  const root = await busyboxStore();
  const before = fingerprint(root);
  const cases: [string, RegExp][] = [
    ['FROM busybox AS self\nCOPY --from=self /bin/sh /x\n', /^nbuild: Dockerfile:2: circular dependency detected on stage: self \(COPY --from=self\)$/],
    ['FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /x /x\n', /^nbuild: Dockerfile:2: circular dependency detected on stage: a \(COPY --from=b\)$/],
    // The last stage is built FROM a, so a is built (only built stages are checked, as BuildKit).
    ['FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nFROM a\n', /^nbuild: Dockerfile:2: cannot copy from stage "b", it needs to be defined before current stage "a"$/],
  ];
  for (const [dockerfile, message] of cases) {
    const ctx = context('cycle', { Dockerfile: dockerfile });
    const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '.'], ctx);
    t.is(r.code, 1);
    expectOneError(t, r.stderr, message);
    t.notRegex(r.stderr, /pull|registry/i);
    const check = await nbuild(['check'], { cwd: ctx });
    t.is(check.code, 1, check.stdout);
    t.regex(check.stdout, /^Dockerfile:2: error: /m);
  }
  await expectStoreClean(t, root, before);
});

test.serial('a COPY or ADD source outside the context is an error at its line, and nothing is read', async (t) => {
  const root = await busyboxStore();
  const outside = tempDir('outside');
  fs.writeFileSync(path.join(outside, 'secret'), 'do not read\n');
  const before = fingerprint(root);
  for (const [kw, src] of [['COPY', `../${path.basename(outside)}/secret`], ['ADD', '../../../../../../etc/hostname']]) {
    const ctx = context('outside-ctx', { Dockerfile: `FROM busybox\n${kw} ${src} /stolen\n` });
    const r = await runBounded(['--root', root, 'build', '--progress', 'quiet', '-t', 'stolen:1', '.'], ctx);
    t.is(r.code, 1);
    expectOneError(t, r.stderr, new RegExp(`^nbuild: Dockerfile:2: ${kw}: source \\.\\./.* is outside the build context$`));
  }
  await expectStoreClean(t, root, before);
});

test.serial('ENOSPC in COPY is one error naming the line and the full store; the store stays consistent', async (t) => {
  const dir = tempDir('enospc');
  const ctx = context('enospc-ctx', { Dockerfile: 'FROM busybox\nCOPY big /big\n' });
  fs.writeFileSync(path.join(ctx, 'big'), Buffer.alloc(24 << 20, 7));
  // A 12 MiB tmpfs for the store, mounted in a user+mount namespace of our own (no root needed).
  const script = [
    `mount -t tmpfs -o size=12m tmpfs '${dir}' || exit 99`,
    `'${bin}' --root '${dir}/store' load -i '${busyboxImage()}' -t busybox:latest >/dev/null || exit 98`,
    `cd '${ctx}'; '${bin}' --root '${dir}/store' build --progress quiet . 2>"${dir}/err"; echo "build=$?"; cat "${dir}/err"`,
    `'${bin}' --root '${dir}/store' store check 2>&1; echo "check=$?"; ls -A '${dir}/store/tmp'`,
  ].join('\n');
  let out: string;
  try {
    out = execFileSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script], { timeout: 120_000, killSignal: 'SIGKILL' }).toString();
  } catch (e) {
    const status = (e as { status?: number }).status;
    if (status === 99 || status === 1) return t.pass(`skipped: cannot mount a tmpfs in a user namespace here (${(e as Error).message.split('\n')[0]})`);
    throw e;
  }
  t.regex(out, /build=1/, out);
  const errors = out.split('\n').filter((l) => l.startsWith('nbuild:'));
  t.is(errors.length, 1, out);
  t.regex(errors[0] ?? '', /^nbuild: Dockerfile:2: COPY: no space left on the device of the store while running COPY; free some space or run 'nbuild prune'$/);
  t.regex(out, / 0 problem\(s\)\ncheck=0\n$/, out);
});
