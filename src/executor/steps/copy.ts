// COPY (and ADD of local files): stage the files under their final path in a
// fresh folder, with parent folders mirroring the image's own metadata, then
// commit that folder as the layer.
import { hasWildcard, segmentRegExp } from '../../context/glob.js';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { CopyInstruction, AddInstruction, Heredoc } from '../../frontend/dockerfile/types.js';
import { DockerfileError } from '../../errors.js';
import { chompHeredoc } from '../../frontend/dockerfile/index.js';
import { Copier, parseChmod } from '../copier.js';
import { stageParents, relInImage } from '../staging.js';
import { IgnoreMatcher } from '../../context/dockerignore.js';
import { lstatIn, resolveInRoot, resolveInTrees } from '../rootfs-view.js';
import { loc } from './metadata.js';
import type { StepEnv } from '../context.js';
import type { BuildContext } from '../../context/context.js';
import { downloadUrl, isTarArchive, isUrl, unpackArchive } from './add-sources.js';

export type CopySource =
  | { kind: 'context'; context: BuildContext }
  | { kind: 'rootfs'; dir: string; name: string };

export interface CopyRequest {
  instr: CopyInstruction | AddInstruction; // expanded
  source: CopySource;
  /** The current image's tree (read-only view), for parents and `--chown` names. */
  imageRoot: string;
  workdir: string;
  owner?: { uid: number; gid: number };
  stagingRoot: string;
}

interface Item {
  abs?: string; // a file or folder to copy
  unpack?: boolean; // ADD of a local archive: unpack at the destination
  content?: string; // a heredoc
  name: string; // base name used when the destination is a folder
  isDir: boolean;
  rel: string; // path relative to its source root (for ignore filters)
  /** COPY --parents: where below the destination the item goes (its path after any `/./` pivot). */
  keepPath?: string;
}

export async function stageCopy(env: StepEnv, req: CopyRequest): Promise<void> {
  const { instr } = req;
  const items = await collectItems(req);
  const destAbs = path.posix.resolve(req.workdir || '/', instr.dest);
  const destExisting = await lstatIn(req.imageRoot, await relInImage(req.imageRoot, destAbs));
  // `.` and `..` (alone or last) name folders, as a trailing slash does: `WORKDIR /b` + `COPY f .` is /b/f.
  const parents = instr.kind === 'copy' && instr.parents;
  const destIsDir = parents || instr.dest.endsWith('/') || /(^|\/)\.\.?$/.test(instr.dest) || destExisting?.isDirectory() === true || items.length > 1 || items.some((i) => i.isDir);
  if (items.length > 1 && !destIsDir) {
    throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()}: with more than one source file, the destination must be a folder and end with a /`);
  }
  // Follow symlinked parents as the image does (e.g. /bin → /usr/bin).
  const destDirInImage = '/' + (await relInImage(req.imageRoot, destIsDir ? destAbs : path.posix.dirname(destAbs)));
  const destFile = path.posix.join(destDirInImage, path.posix.basename(destAbs));
  await stageParents(req.imageRoot, req.stagingRoot, destDirInImage, destIsDir ? req.owner : undefined);
  const excludes = req.instr.exclude.length > 0 ? new IgnoreMatcher(req.instr.exclude) : undefined;
  let itemRoot = ''; // the source being copied: --exclude patterns are relative to it
  const copier = new Copier({
    root: req.stagingRoot,
    owner: req.source.kind === 'context' ? (req.owner ?? { uid: 0, gid: 0 }) : req.owner,
    chmod: instr.chmod ? parseChmod(instr.chmod) : undefined,
    exclude: (rel, isDir) => contextExcluded(req, rel, isDir) || (excludes?.excludes(relativeTo(itemRoot, rel), isDir) ?? false),
    // With a build timestamp, context files get it as their mtime: the host's mtimes must not
    // reach the image (clamping alone would keep older ones).
    mtime: env.timestamp,
    canSkip: req.source.kind === 'context' ? (rel) => req.source.kind === 'context' && req.source.context.ignore.canSkipDirectory(rel) : undefined,
  });
  for (const item of items) {
    // A source that is itself excluded (`COPY --exclude=*.txt * /d/`) is left out whole.
    if (item.abs !== undefined && excludes?.excludes(path.posix.basename(item.rel) || item.name, item.isDir)) continue;
    itemRoot = item.rel;
    const target = item.keepPath !== undefined
      ? path.posix.join(await makeKeptParents(req, destDirInImage, path.posix.dirname(item.keepPath)), path.posix.basename(item.keepPath))
      : destIsDir ? path.posix.join(destDirInImage, item.isDir ? '' : item.name) : destFile;
    const stagingTarget = path.join(req.stagingRoot, target);
    if (item.content !== undefined) {
      await fs.rm(stagingTarget, { force: true, recursive: true });
      await fs.writeFile(stagingTarget, item.content, { flag: 'wx' });
      await finishHeredocFile(stagingTarget, req);
      if (env.timestamp !== undefined) await fs.utimes(stagingTarget, env.timestamp, env.timestamp);
    } else if (item.unpack) {
      await unpackArchive(item.abs as string, stagingTarget, req.stagingRoot + '.downloads').catch((error: Error) => {
        throw new DockerfileError(loc(instr), error.message, { cause: error });
      });
      if (req.owner) await chownTree(stagingTarget, req.owner);
    } else {
      await copier.copy(item.abs as string, stagingTarget, item.rel);
    }
  }
}

/**
 * COPY --parents keeps a source's path below the destination: `a/b/f` → DEST/a/b/f.
 * A `/./` in the source pivots: only what follows it is kept (`a/./b/f` → DEST/b/f).
 */
function keptPath(instr: CopyRequest['instr'], src: string, matched: string): string | undefined {
  if (instr.kind !== 'copy' || !instr.parents) return undefined;
  const clean = (p: string): string => path.posix.normalize('/' + p).slice(1).replace(/\/+$/, '');
  const pivot = src.indexOf('/./');
  const prefix = pivot >= 0 ? clean(src.slice(0, pivot)) : '';
  const rel = clean(matched);
  return prefix && (rel === prefix || rel.startsWith(prefix + '/')) ? rel.slice(prefix.length).replace(/^\//, '') : rel;
}

/**
 * Folders between the destination and a --parents item: 0755, owned like the copied files.
 * Each is looked up in the staging tree over the image, links resolved inside the root: a link
 * an earlier source staged (`a/x/y -> /anywhere`) is followed as the image will see it, and
 * never out of the staging tree. Returns the last folder, as a path in the image.
 */
async function makeKeptParents(req: CopyRequest, destDir: string, relDir: string): Promise<string> {
  let current = destDir;
  if (relDir === '.' || relDir === '') return current;
  const owner = req.owner ?? { uid: 0, gid: 0 };
  for (const part of relDir.split('/')) {
    current = await resolveInTrees([req.stagingRoot, req.imageRoot], path.posix.join(current, part));
    const staged = await lstatIn(req.stagingRoot, current);
    if (staged?.isDirectory()) continue;
    if (staged) throw new DockerfileError(loc(req.instr), `COPY --parents: ${current} is not a folder (an earlier source put a file there)`);
    await stageParents(req.imageRoot, req.stagingRoot, path.posix.dirname(current));
    const dir = path.join(req.stagingRoot, current);
    await fs.mkdir(dir);
    await fs.lchown(dir, owner.uid, owner.gid);
    await fs.chmod(dir, 0o755);
  }
  return current;
}

async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await fs.lchown(dir, owner.uid, owner.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, owner);
    else await fs.lchown(p, owner.uid, owner.gid);
  }
}

async function collectItems(req: CopyRequest): Promise<Item[]> {
  const { instr, source } = req;
  await fs.mkdir(req.stagingRoot + '.downloads', { recursive: true });
  // `COPY <<EOF /dest`: each here-document is a file named after its delimiter.
  const items: Item[] = instr.heredocs.map((h) => ({ content: heredocText(h), name: h.name, isDir: false, rel: h.name }));
  for (const src of instr.sources) {
    if (instr.kind === 'add' && isUrl(src)) {
      const dl = await downloadUrl(src, req.stagingRoot + '.downloads', instr.checksum);
      items.push({ abs: dl.file, name: dl.name, isDir: false, rel: dl.name });
      continue;
    }
    if (source.kind === 'context') {
      const entries = await source.context.resolve(src);
      // A wildcard that matches nothing is fine while another source matches (Docker's rule).
      if (entries.length === 0 && hasWildcard(src) && instr.sources.length > 1) continue;
      if (entries.length === 0) throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()} failed: file not found in build context or excluded by .dockerignore: ${src}`);
      for (const e of entries) {
        const unpack = instr.kind === 'add' && instr.unpack !== false && e.stat.isFile() && (await isTarArchive(e.abs));
        const keepPath = keptPath(instr, src, e.rel);
        items.push({ abs: e.abs, name: path.posix.basename(e.rel), isDir: e.stat.isDirectory() || unpack, rel: e.rel, unpack, keepPath });
      }
    } else {
      const matches = hasWildcard(src) ? await globInRoot(source.dir, src) : [src];
      if (matches.length === 0) throw new DockerfileError(loc(instr), `COPY --from=${source.name}: ${src} not found in that stage`);
      for (const match of matches) {
        const abs = await resolveInRoot(source.dir, match);
        const st = await fs.stat(abs).catch(() => undefined);
        if (!st) throw new DockerfileError(loc(instr), `COPY --from=${source.name}: ${src} not found in that stage`);
        items.push({ abs, name: path.posix.basename(match.replace(/\/+$/, '')) || '/', isDir: st.isDirectory(), rel: '', keepPath: keptPath(instr, src, match) });
      }
    }
  }
  if (items.length === 0) throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()} failed: no source files matched ${instr.sources.join(' ')}`);
  return items;
}

/** `COPY --from=stage /a/b/* …`: wildcards match names in the stage's tree, one segment at a time. */
async function globInRoot(root: string, pattern: string): Promise<string[]> {
  let found = [''];
  for (const seg of pattern.split('/').filter((p) => p !== '' && p !== '.')) {
    const next: string[] = [];
    for (const base of found) {
      if (!hasWildcard(seg)) {
        next.push(`${base}/${seg}`);
        continue;
      }
      const re = segmentRegExp(seg);
      const names = await fs.readdir(await resolveInRoot(root, base || '/')).catch(() => [] as string[]);
      for (const name of names.sort()) if (re.test(name)) next.push(`${base}/${name}`);
    }
    found = next;
  }
  return found;
}

function heredocText(h: Heredoc): string {
  return h.chomp ? chompHeredoc(h.content) : h.content;
}

async function finishHeredocFile(file: string, req: CopyRequest): Promise<void> {
  const owner = req.owner ?? { uid: 0, gid: 0 };
  await fs.lchown(file, owner.uid, owner.gid);
  const mode = req.instr.chmod ? parseChmod(req.instr.chmod)(0o644, false) : 0o644;
  await fs.chmod(file, mode);
}

function contextExcluded(req: CopyRequest, rel: string, isDir: boolean): boolean {
  return req.source.kind === 'context' && req.source.context.isExcluded(rel, isDir);
}

/** `rel` (below the context or stage root) as a path inside the source folder `root`. */
function relativeTo(root: string, rel: string): string {
  return root === '' ? rel : rel.startsWith(root + '/') ? rel.slice(root.length + 1) : path.posix.basename(rel);
}

