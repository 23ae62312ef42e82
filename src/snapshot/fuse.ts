// The fuse-overlayfs rung: fuse-overlayfs mounts the stack in nbuild's own user + mount namespace
// (it daemonizes once the mount is up), the sandbox binds that mount as its root, and afterwards
// the mount is taken down and the upper dir normalised to the kernel overlay's format.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { NbuildError } from '../errors.js';
import { normalizeFuseUpper } from './copy.js';

export { normalizeFuseUpper };

/** The fuse-overlayfs binary: $NBUILD_FUSE_OVERLAYFS or the one on PATH. */
export function fuseOverlayfsCommand(): string {
  return process.env['NBUILD_FUSE_OVERLAYFS'] || 'fuse-overlayfs';
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => resolve({ code: null, err: e.message }));
    child.on('close', (code) => resolve({ code, err }));
  });
}

/** The option string; `:` and `,` separate paths and options, so paths holding them are refused. */
export function fuseOverlayfsOptions(lowerDirs: string[], upperDir: string, workDir: string): string {
  for (const p of [...lowerDirs, upperDir, workDir]) {
    if (/[:,\\]/.test(p)) throw new NbuildError('ISOLATION', `fuse-overlayfs cannot take the path "${p}" (it holds ':', ',' or '\\')`);
  }
  // allow_other: the RUN command may run as any uid of the namespace, not only as its root.
  return `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir},allow_other`;
}

/** Mounts `lowerDirs` (top-most first) + `upperDir` at `merged`; resolves once the mount is up. */
export async function mountFuseOverlayfs(lowerDirs: string[], upperDir: string, workDir: string, merged: string): Promise<void> {
  const opts = fuseOverlayfsOptions(lowerDirs, upperDir, workDir);
  const { code, err } = await run(fuseOverlayfsCommand(), ['-o', opts, merged]);
  // It warns "unknown argument ignored: lazytime" on some hosts; only a failure is worth showing.
  if (code !== 0) {
    throw new NbuildError('ISOLATION', `fuse-overlayfs could not mount the RUN root (exit ${code}): ${err.trim()}`);
  }
  if (!(await isMountPoint(merged))) throw new NbuildError('ISOLATION', `fuse-overlayfs exited without mounting ${merged}`);
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMountPoint(path: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((line) => line.split(' ')[4] !== undefined && unescapeMountinfo(line.split(' ')[4]) === path);
}

/**
 * Takes the mount at `merged` down (all of its stacked mounts): `umount`, then a lazy detach if
 * it is busy. The fuse-overlayfs daemon exits when its mount goes away.
 */
export async function unmount(merged: string): Promise<void> {
  for (let i = 0; i < 8 && (await isMountPoint(merged)); i++) {
    let r = await run('umount', [merged]);
    if (r.code !== 0) r = await run('fusermount3', ['-u', merged]);
    if (r.code !== 0) r = await run('umount', ['-l', merged]);
    if (r.code !== 0) throw new NbuildError('ISOLATION', `cannot unmount the fuse-overlayfs root ${merged}: ${r.err.trim()}`);
  }
  if (await isMountPoint(merged)) throw new NbuildError('ISOLATION', `${merged} is still mounted`);
}
