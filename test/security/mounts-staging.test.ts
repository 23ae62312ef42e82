// Adversarial: a hostile Dockerfile and context, built by the unprivileged test user, must not
// reach the invoking user's files or the store through RUN bind mounts (issue 13, rows 1 and 2)
// or through COPY/ADD staging (rows 3 and 4). Each test runs the attack end to end against a
// temp store and a fake $HOME holding a fake ~/.ssh/id_rsa, fingerprints the home (the context
// is inside it), the store's unpacked layers, blobs and refs before and after, and asserts that
// nothing changed and that the key never showed up; the build either fails with one line
// naming Dockerfile:LINE or succeeds with the attack contained.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';
import { changes, fingerprint, type Fingerprint } from '../helpers/tree-fingerprint.js';

const KEY = 'FAKE-PRIVATE-KEY-d41d8cd98f00';
const VICTIM = 'victim-file-untouched';

interface Scene {
  home: string; // the fake $HOME: .ssh/id_rsa, outdir/f, proj/ctx (the context)
  ctx: string;
  store: string;
}

async function scene(): Promise<Scene> {
  const home = tempDir('sec-home');
  const ctx = path.join(home, 'proj', 'ctx');
  writeFiles(home, { '.ssh/id_rsa': `${KEY}\n`, 'outdir/f': `${VICTIM}\n`, 'proj/ctx/ctx-file.txt': 'context\n' });
  fs.chmodSync(path.join(home, '.ssh', 'id_rsa'), 0o600);
  return { home, ctx, store: await storeWithBusybox() };
}

interface StoreState {
  layers: Fingerprint;
  blobs: Fingerprint;
  refs: { images: Record<string, unknown> };
}

function storeState(store: string): StoreState {
  // A blob file's mtime is the store's own bookkeeping: it touches a blob it reuses (recency for
  // prune; every RUN that changes nothing reuses the empty layer's). Its content, size, mode,
  // owner and links are what an attack would change.
  const blobs = new Map([...fingerprint(path.join(store, 'blobs'))].map(([rel, desc]) => [rel, desc.startsWith('file ') ? desc.replace(/ mtime=\S+/, '') : desc]));
  return {
    layers: fingerprint(path.join(store, 'layers')),
    blobs,
    refs: JSON.parse(fs.readFileSync(path.join(store, 'refs.json'), 'utf8')),
  };
}

/** Builds `dockerfile` in the scene; asserts the home and the store's existing content are untouched. */
async function attack(t: ExecutionContext, s: Scene, dockerfile: string): Promise<RunResult> {
  fs.writeFileSync(path.join(s.ctx, 'Dockerfile'), dockerfile);
  const homeBefore = fingerprint(s.home);
  const storeBefore = storeState(s.store);
  const r = await nbuild(['--root', s.store, 'build', '--progress', 'plain', '--no-cache', s.ctx], { env: { HOME: s.home } });
  t.deepEqual(changes(homeBefore, fingerprint(s.home)), [], 'the fake home (and the context in it) is unchanged');
  const after = storeState(s.store);
  // New layers and blobs are the build's own; what the store held before must be untouched.
  const existingLayer = (rel: string): boolean => rel !== '' && storeBefore.layers.has(rel.split('/')[0]);
  t.deepEqual(changes(storeBefore.layers, after.layers, existingLayer), [], "the store's unpacked layers are unchanged");
  t.deepEqual(changes(storeBefore.blobs, after.blobs, (rel) => storeBefore.blobs.has(rel) && rel.includes('/')), [], "the store's blobs are unchanged");
  for (const id of Object.keys(storeBefore.refs.images)) t.true(id in after.refs.images, `refs.json still knows ${id}`);
  t.false(`${r.stdout}${r.stderr}`.includes(KEY), 'the key never reaches the build output');
  t.false(`${r.stdout}${r.stderr}`.includes(VICTIM), 'the victim file is never read');
  t.false(/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
  return r;
}

/** A refused build: non-zero, with one error line naming the Dockerfile line. */
function refusedAt(t: ExecutionContext, r: RunResult, line: number, what: RegExp): void {
  t.not(r.code, 0, r.stderr);
  const last = r.stderr.trim().split('\n').filter((l) => l.startsWith('nbuild: '));
  t.is(last.length, 1, r.stderr);
  t.regex(last[0], new RegExp(`Dockerfile:${line}: `), r.stderr);
  t.regex(last[0], what, r.stderr);
}

test('row 1: a bind source above the context (.., ../.., a climb to /) stays inside the context', async (t) => {
  const s = await scene();
  const climb = '../'.repeat(30);
  const r = await attack(t, s, [
    'FROM busybox',
    'RUN --mount=type=bind,source=..,target=/h sh -c "cat /h/../.ssh/id_rsa /h/../../.ssh/id_rsa; test -f /h/ctx-file.txt"',
    'RUN --mount=type=bind,source=../..,target=/h sh -c "cat /h/.ssh/id_rsa; test -f /h/ctx-file.txt"',
    `RUN --mount=type=bind,source=${climb},target=/h sh -c "cat /h${s.home}/.ssh/id_rsa; test -f /h/ctx-file.txt && test ! -e /h/proc/self"`,
    '',
  ].join('\n'));
  t.is(r.code, 0, r.stderr);
});

test('row 1: a context symlink to outside (relative or absolute) as bind source resolves inside the context', async (t) => {
  const s = await scene();
  fs.symlinkSync('../../.ssh', path.join(s.ctx, 'sshrel'));
  fs.symlinkSync(path.join(s.home, '.ssh'), path.join(s.ctx, 'sshabs'));
  fs.mkdirSync(path.join(s.ctx, 'sub'));
  fs.symlinkSync('../../../.ssh/id_rsa', path.join(s.ctx, 'sub', 'keyrel'));
  const rel = await attack(t, s, 'FROM busybox\nRUN --mount=type=bind,source=sshrel,target=/h cat /h/id_rsa\n');
  refusedAt(t, rel, 2, /source "sshrel" .*not found/);
  const abs = await attack(t, s, 'FROM busybox\nRUN true\nRUN --mount=type=bind,source=sshabs,target=/h cat /h/id_rsa\n');
  refusedAt(t, abs, 3, /source "sshabs" .*not found/);
  const file = await attack(t, s, 'FROM busybox\nRUN --mount=type=bind,source=sub/keyrel,target=/k cat /k\n');
  refusedAt(t, file, 2, /source "sub\/keyrel" .*not found/);
  // A link that stays inside the context still works, as in BuildKit.
  fs.symlinkSync('sub', path.join(s.ctx, 'inside'));
  writeFiles(s.ctx, { 'sub/data.txt': 'in the context\n' });
  const ok = await attack(t, s, 'FROM busybox\nRUN --mount=type=bind,source=inside,target=/h cat /h/data.txt\n');
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout + ok.stderr, /in the context/);
});

test('row 1: rw bind mounts write to a throw-away copy: never to the context, the home or the host', async (t) => {
  const s = await scene();
  fs.symlinkSync('../../.ssh', path.join(s.ctx, 'sshrel'));
  const r = await attack(t, s, [
    'FROM busybox',
    // The writes succeed inside the step and are visible there...
    'RUN --mount=type=bind,source=.,target=/h,rw sh -c "echo pwn > /h/written && echo pwn > /h/ctx-file.txt && (echo pwn > /h/sshrel/id_rsa; true) && cat /h/written"',
    'RUN --mount=type=bind,source=../..,target=/h,rw sh -c "echo pwn > /h/.ssh-id_rsa && echo pwn >> /h/ctx-file.txt"',
    `RUN --mount=type=bind,source=${'../'.repeat(30)},target=/h,rw sh -c "mkdir -p /h${s.home}/.ssh && echo pwn > /h${s.home}/.ssh/id_rsa"`,
    'RUN --mount=type=bind,source=ctx-file.txt,target=/one,rw sh -c "echo pwn > /one && cat /one"',
    // ...and are gone for the next step (BuildKit throws rw bind writes away).
    'RUN --mount=type=bind,target=/h sh -c "test ! -e /h/written && grep -qx context /h/ctx-file.txt"',
    '',
  ].join('\n'));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout + r.stderr, /#\d+ pwn/);
});

test('row 2: from=busybox,rw never writes into the store, and source=../.. from an image stays in its root', async (t) => {
  const s = await scene();
  const r = await attack(t, s, [
    'FROM busybox',
    'RUN --mount=type=bind,from=busybox,target=/b,rw sh -c "echo X > /b/bin/POISONED && rm /b/bin/sh && cat /b/bin/POISONED"',
    'RUN test ! -e /bin/POISONED && test -e /bin/sh',
    'RUN --mount=type=bind,from=busybox,source=../..,target=/s sh -c "test ! -e /s/refs.json && test ! -e /s/blobs && test -e /s/bin/busybox"',
    'RUN --mount=type=bind,from=busybox,source=../../..,target=/s,rw sh -c "echo junk > /s/refs.json && rm -rf /s/blobs /s/layers; true"',
    'FROM busybox AS two',
    'RUN echo stage > /stage-file',
    'FROM busybox',
    'RUN --mount=type=bind,from=two,source=../../../..,target=/s,rw sh -c "grep -qx stage /s/stage-file && echo X > /s/bin/POISONED2"',
    'RUN --mount=type=bind,from=two,target=/s test ! -e /s/bin/POISONED2',
    '',
  ].join('\n'));
  t.is(r.code, 0, r.stderr);
  const again = await nbuild(['--root', s.store, 'run', '--rm', 'busybox', 'sh', '-c', 'test ! -e /bin/POISONED && echo clean']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /clean/);
  const check = await nbuild(['--root', s.store, 'store', 'check']);
  t.is(check.code, 0, check.stdout + check.stderr);
});

// Root of the step has Docker's capability set, without CAP_SYS_ADMIN (issue 13 row 6): it cannot
// remount a read-only bind read-write.
test('row 2: a read-only bind (of the context, or of a store layer) cannot be remounted read-write', async (t) => {
  const s = await scene();
  const r = await attack(t, s, [
    'FROM busybox',
    'RUN --mount=type=bind,target=/h sh -c "mount -o remount,rw,bind /h; touch /h/REMOUNTED; true"',
    'RUN --mount=type=bind,from=busybox,target=/b sh -c "mount -o remount,rw,bind /b; touch /b/REMOUNTED; true"',
    '',
  ].join('\n'));
  t.is(r.code, 0, r.stderr);
});

test('row 3: ADD unpacks an archive inside its destination, never through a staged link to outside', async (t) => {
  const s = await scene();
  const made = tempDir('sec-tar');
  writeFiles(made, { 'lnk/PWNED': 'pwned\n', 'rel/PWNED': 'pwned\n' });
  fs.mkdirSync(path.join(s.ctx, 'd1'));
  fs.symlinkSync(path.join(s.home, 'outdir'), path.join(s.ctx, 'd1', 'lnk'));
  fs.symlinkSync(`${'../'.repeat(30)}${s.home.slice(1)}/outdir`, path.join(s.ctx, 'd1', 'rel'));
  execFileSync('tar', ['-cf', path.join(s.ctx, 'evil.tar'), '-C', made, 'lnk/PWNED', 'rel/PWNED']);
  const r = await attack(t, s, `FROM busybox\nADD d1/ evil.tar /dst/\nRUN find /dst | sort\n`);
  t.false(fs.existsSync(path.join(s.home, 'outdir', 'PWNED')));
  if (r.code !== 0) refusedAt(t, r, 2, /ADD/);
  else t.regex(r.stdout + r.stderr, /\/dst\/lnk/);
});

test('row 4: COPY --parents through a staged link to outside neither deletes nor rewrites the host file', async (t) => {
  const s = await scene();
  fs.mkdirSync(path.join(s.ctx, 'a', 'x'), { recursive: true });
  fs.symlinkSync(path.join(s.home, 'outdir'), path.join(s.ctx, 'a', 'x', 'y'));
  fs.mkdirSync(path.join(s.ctx, 'c', 'x'), { recursive: true });
  fs.symlinkSync(`${'../'.repeat(30)}${s.home.slice(1)}/outdir`, path.join(s.ctx, 'c', 'x', 'y'));
  writeFiles(s.ctx, { 'b/x/y/f': 'attacker\n' });
  const r = await attack(t, s, 'FROM busybox\nCOPY --parents a/./x b/./x/y/f /dst/\nCOPY --parents c/./x b/./x/y/f /dst2/\nRUN ls -laR /dst /dst2\n');
  t.is(fs.readFileSync(path.join(s.home, 'outdir', 'f'), 'utf8'), `${VICTIM}\n`);
  if (r.code !== 0) refusedAt(t, r, 2, /COPY/);
});

test('row 4: a hard link between sources never links a host file (reached through a staged link) into the image', async (t) => {
  const s = await scene();
  writeFiles(s.ctx, { 's1/x/id_rsa': 'decoy\n' });
  fs.mkdirSync(path.join(s.ctx, 's3'));
  fs.linkSync(path.join(s.ctx, 's1', 'x', 'id_rsa'), path.join(s.ctx, 's3', 'k2'));
  fs.mkdirSync(path.join(s.ctx, 's2'));
  fs.symlinkSync(path.join(s.home, '.ssh'), path.join(s.ctx, 's2', 'x'));
  const r = await attack(t, s, 'FROM busybox\nCOPY s1/ s2/ s3/ /dst/\nRUN cat /dst/k2\n');
  // s2's link x would replace the folder x that s1 staged: BuildKit's copier refuses that (a
  // folder never becomes a file or link), so the staged link the hard link would go through
  // never exists. (The copier also checks, before link(2), that no link is on the way.)
  refusedAt(t, r, 2, /cannot replace to directory \/dst\/x with file/);
});
