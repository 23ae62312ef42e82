// COPY and ADD: stage what the step adds, at the paths the image will see, in a fresh
// folder over the image (staging.ts), then commit that folder as the layer. The rules
// are BuildKit's (dockerfile2llb's dispatchCopy and fsutil's Copy):
// - the destination is resolved through the image's symlinks, the last one too, so
//   `COPY tool /bin/` on a merged-/usr base lands in /usr/bin and keeps /bin a link;
// - the destination's folder is made first (all of it when it ends with `/`), then each
//   source: a file into a folder there keeps its name, a folder's content merges into it;
// - folders COPY makes get 0755 (or an octal --chmod) and the --chown owner (root
//   otherwise); folders already there keep theirs; what is copied gets --chown/--chmod;
// - a source that is a symlink is followed (its target is copied under its name);
//   links inside a copied folder stay links.
import { hasWildcard, segmentMatcher } from '../../context/glob.js';
import { globInRoot } from '../stage-paths.js';
import * as fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
import * as path from 'node:path';
import type { CopyInstruction, AddInstruction, Heredoc } from '../../frontend/dockerfile/types.js';
import { DockerfileError, NbuildError } from '../../errors.js';
import { chompHeredoc } from '../../frontend/dockerfile/index.js';
import { createdDirMode } from '../../frontend/dockerfile/chmod.js';
import type { Chown } from '../../frontend/dockerfile/chown.js';
import { Copier } from '../copier.js';
import { SourcedFiles, TooManySourced } from '../sourced-files.js';
import { removeTree } from '../../store/fsutil.js';
import { copyContextFile, rememberRead } from '../../cache/stat-cache.js';
import { StagedTree, type NewDirs } from '../staging.js';
import { IgnoreMatcher } from '../../context/dockerignore.js';
import { resolveInRoot } from '../../fs/in-root.js';
import { loc } from './metadata.js';
import type { StepEnv } from '../context.js';
import type { BuildContext } from '../../context/context.js';
import { addArchive, isTarArchive, isUrl } from './add-sources.js';
import { expandInstruction } from '../../frontend/dockerfile/index.js';
import { resolveChown } from '../../sandbox/index.js';
import { copyHistory } from '../history.js';
import { commitLayer, storeLayer, writeLayerBlob } from '../commit.js';
import { openRootfsView } from '../../snapshot/rootfs-view.js';
import { contextSourcesDigest, walkContextSources, type SourcesWalk } from '../../cache/content-hash.js';
import { expansionLookup, type StageState } from '../state.js';
import type { PreparedLayer, Step, StepContext } from '../step.js';
import { trace } from '../../trace.js';
import type { Instruction } from '../../frontend/dockerfile/types.js';

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
  /**
   * Collects the entries of a context COPY of one source instead of staging them
   * (sourced-files.ts); a COPY of several sources stages everything (later sources see the
   * earlier ones in the tree).
   */
  sourced?: SourcedFiles;
}

/** One thing to copy, as BuildKit's copy action sees it. */
interface Item {
  /** The file or folder to copy (a top-level link already followed by `stat`). */
  abs: string;
  stat: Stats;
  /** The name it keeps when it goes into a folder. */
  name: string;
  /** Its path below its source root, for the ignore and --exclude filters ('' for a root). */
  rel: string;
  /** ADD of an archive (local, or a URL with --unpack=true): unpacked into the destination. */
  unpack?: boolean;
  /** COPY --parents: only what this pattern (relative to the folder) names, with its folders. */
  include?: IgnoreMatcher & { pattern: string };
  /** An --exclude applies to this source itself (a source named on the line, not a pivot folder). */
  filterSelf: boolean;
}

export async function stageCopy(env: StepEnv, req: CopyRequest): Promise<void> {
  const { instr } = req;
  // --chown's owner goes to the tree, which applies it to all the step writes.
  const tree = new StagedTree(req.imageRoot, req.stagingRoot, req.owner);
  const context = req.source.kind === 'context';
  const made: NewDirs = { mode: createdDirMode(instr.chmod), mtime: env.timestamp };
  const dest = destinationOf(req.workdir, instr.dest);
  const scratch = req.stagingRoot + '.sources';
  await fs.mkdir(scratch, { recursive: true });
  const items = await collectItems(env, req, scratch);
  const excludes = instr.exclude.length > 0 ? new IgnoreMatcher(instr.exclude) : undefined;
  // (Errors without a Dockerfile line, a conflict at the destination or a full store, get the
  // step's where the stage runs it: stage.ts.)
  // The Dockerfile reference's rule (BuildKit writes each file over the last, moby/buildkit#1853).
  if (items.length > 1 && !dest.slash && items.some((i) => !i.stat.isDirectory() && !i.unpack) && !(await tree.lstat(await tree.resolve(dest.path)))?.st.isDirectory()) {
    throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()}: with more than one source file, the destination must be a folder and end with a /`);
  }
  // BuildKit makes the destination's folder before anything else (all of it with a trailing /).
  await tree.mkdirAll(await tree.resolve(dest.slash ? dest.path : path.posix.dirname(dest.path)), made);
  for (const item of items) {
    // A named file that an --exclude matches is left out, as BuildKit's reference says (its
    // copier does not, moby/buildkit#5489); a named folder's content is filtered, as in BuildKit.
    if (item.filterSelf && !item.stat.isDirectory() && excludes?.excludes(item.rel ? path.posix.basename(item.rel) : item.name, false)) continue;
    if (item.unpack) {
      const into = await tree.resolve(dest.path);
      await tree.mkdirAll(into, { ...made, mode: 0o755 });
      await addArchive(item.abs, into, { tree, scratch, mtime: env.timestamp });
      continue;
    }
    const target = await targetOf(tree, dest.path, item, made);
    const copier = new Copier({
      tree,
      keepSourceIds: !context,
      chmod: instr.chmod,
      exclude: (rel, isDir) =>
        contextExcluded(req, rel, isDir) ||
        (item.include !== undefined && !item.include.excludes(relativeTo(item.rel, rel), isDir)) ||
        (excludes?.excludes(relativeTo(item.rel, rel), isDir) ?? false),
      canSkip: (rel) =>
        (item.include !== undefined && !couldContain(item.include.pattern, relativeTo(item.rel, rel))) ||
        (req.source.kind === 'context' && req.source.context.ignore.canSkipDirectory(rel)) ||
        (excludes !== undefined && excludes.canSkipDirectory(relativeTo(item.rel, rel))),
      // With a build timestamp, context files get it as their mtime: the host's mtimes must not
      // reach the image (clamping alone would keep older ones).
      mtime: env.timestamp,
      socketsAsFiles: context,
      copyFile: context ? (src, to, st) => copyContextFile(env.statCache, src, to, st) : undefined,
      sourced: context && items.length === 1 ? req.sourced : undefined,
    });
    await copier.copyTop(item.abs, item.stat, target, item.rel);
  }
}

/**
 * BuildKit's destination: relative to WORKDIR, cleaned, and whether it names a folder
 * (a trailing `/`, or `.`/empty, which is the WORKDIR itself).
 */
function destinationOf(workdir: string, dest: string): { path: string; slash: boolean } {
  const text = dest === '' || dest === '.' ? './' : dest;
  const abs = path.posix.resolve(workdir || '/', text);
  return { path: abs, slash: text.endsWith('/') || text.endsWith('/.') };
}

/** Where one source goes (BuildKit's prepareTargetDir), its folder made. */
async function targetOf(tree: StagedTree, destPath: string, item: Item, made: NewDirs): Promise<string> {
  const dst = await tree.resolve(destPath);
  const there = await tree.lstat(dst);
  if (!item.stat.isDirectory()) {
    const target = there?.st.isDirectory() ? path.posix.join(dst, item.name) : dst;
    await tree.mkdirAll(path.posix.dirname(target), made);
    return target;
  }
  // A folder's content goes into the destination: the folder there, or one made as its parents are.
  if (there && !there.st.isDirectory()) throw new NbuildError('COPY_CONFLICT', `cannot copy to non-directory: ${dst}`);
  await tree.mkdirAll(dst, made);
  return dst;
}

async function collectItems(env: StepEnv, req: CopyRequest, scratch: string): Promise<Item[]> {
  const { instr, source } = req;
  const items: Item[] = [];
  for (const src of instr.sources) {
    if (instr.kind === 'add' && isUrl(src)) {
      const dl = await env.urls.file(src, instr.checksum).catch((error: Error) => {
        throw new DockerfileError(loc(instr), error.message, { cause: error });
      });
      const stat = await fs.stat(dl.file);
      items.push({ abs: dl.file, stat, name: dl.name, rel: dl.name, unpack: instr.unpack === true && (await isTarArchive(dl.file)), filterSelf: false });
      continue;
    }
    if (instr.kind === 'copy' && instr.parents) {
      items.push(...(await parentsItems(req, src)));
      continue;
    }
    for (const found of await sourceEntries(req, src)) {
      const unpack = instr.kind === 'add' && instr.unpack !== false && found.stat.isFile() && (await isTarArchive(found.abs));
      items.push({ ...found, unpack, filterSelf: true });
    }
  }
  // Here-documents come after the named sources, as in BuildKit: each is a 0644 file named after its delimiter.
  for (const h of instr.heredocs) items.push(await heredocItem(h, scratch));
  if (items.length === 0) throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()} failed: no source files matched ${instr.sources.join(' ')}`);
  return items;
}

/** What one source names: context entries (ignore rules applied) or a stage's tree (wildcards allowed). */
async function sourceEntries(req: CopyRequest, src: string, optional = false): Promise<Omit<Item, 'filterSelf'>[]> {
  const { instr, source } = req;
  if (source.kind === 'context') {
    const entries = source.context.resolve(src);
    // A wildcard that matches nothing is fine (BuildKit's AllowEmptyWildcard).
    if (entries.length === 0 && (hasWildcard(src) || optional)) return [];
    if (entries.length === 0) throw new DockerfileError(loc(instr), `${instr.kind.toUpperCase()} failed: file not found in build context or excluded by .dockerignore: ${src}`);
    return entries.map((e) => ({ abs: e.abs, stat: e.stat, name: path.posix.basename(e.rel) || '/', rel: e.rel }));
  }
  const matches = hasWildcard(src) ? await globInRoot(source.dir, src) : [src];
  const out: Omit<Item, 'filterSelf'>[] = [];
  for (const match of matches) {
    const abs = await resolveInRoot(source.dir, match);
    const stat = await fs.stat(abs).catch(() => undefined);
    if (!stat) {
      if (hasWildcard(src) || optional) continue;
      throw new DockerfileError(loc(instr), `COPY --from=${source.name}: failed to calculate checksum of ref ${source.name}: ${JSON.stringify(path.posix.resolve('/', match))}: not found`);
    }
    out.push({ abs, stat, name: path.posix.basename(match.replace(/\/+$/, '')) || '/', rel: '' });
  }
  return out;
}

/**
 * COPY --parents: BuildKit copies the folder before a `/./` pivot (the source's root
 * without one) with an include pattern for the rest, so the matched paths keep their
 * folders below the destination. A path without wildcards must exist.
 */
async function parentsItems(req: CopyRequest, src: string): Promise<Item[]> {
  const pivot = src.indexOf('/./');
  const parent = pivot >= 0 ? src.slice(0, pivot) || '/' : '/';
  const pattern = path.posix.normalize('/' + (pivot >= 0 ? src.slice(pivot + 3) : src)).slice(1).replace(/\/+$/, '');
  if (!hasWildcard(parent) && !hasWildcard(pattern)) {
    const required = path.posix.join(parent, pattern);
    if ((await sourceEntries(req, required, true)).length === 0) {
      throw new DockerfileError(loc(req.instr), `${req.instr.kind.toUpperCase()} --parents: failed to calculate checksum of ref ${req.source.kind === 'rootfs' ? req.source.name : 'context'}: ${JSON.stringify(path.posix.resolve('/', required))}: not found`);
    }
  }
  const include = Object.assign(new IgnoreMatcher([pattern]), { pattern });
  const roots = await sourceEntries(req, parent, true);
  return roots.filter((r) => r.stat.isDirectory()).map((r) => ({ ...r, include, filterSelf: false }));
}

/** Whether `dir` (relative to the --parents folder) or something below it could match `pattern`. */
function couldContain(pattern: string, dir: string): boolean {
  if (dir === '') return true;
  const pat = pattern.split('/');
  const parts = dir.split('/');
  for (let i = 0; i < parts.length && i < pat.length; i++) {
    if (pat[i] === '**') return true;
    if (!segmentMatcher(pat[i]).test(parts[i])) return false;
  }
  return true; // a prefix of the pattern, or below a folder it names (all of which is included)
}

/** A here-document as a file to copy: BuildKit writes it 0644 in a scratch tree first. */
async function heredocItem(h: Heredoc, scratch: string): Promise<Item> {
  const dir = await fs.mkdtemp(path.join(scratch, 'heredoc-'));
  const file = path.join(dir, 'content');
  await fs.writeFile(file, h.chomp ? chompHeredoc(h.content) : h.content);
  await fs.chmod(file, 0o644);
  return { abs: file, stat: await fs.lstat(file), name: h.name, rel: h.name, filterSelf: false };
}

function contextExcluded(req: CopyRequest, rel: string, isDir: boolean): boolean {
  return req.source.kind === 'context' && req.source.context.isExcluded(rel, isDir);
}

/** `rel` (below the context or stage root) as a path inside the source folder `root`. */
function relativeTo(root: string, rel: string): string {
  return root === '' ? rel : rel.startsWith(root + '/') ? rel.slice(root.length + 1) : path.posix.basename(rel);
}

/** COPY and ADD as a step: keyed by what they read (context files, a stage, an image, URLs). */
export const copyStep: Step<CopyInstruction | AddInstruction> = {
  describe(raw, stage, build) {
    const instr = expandInstruction(raw, expansionLookup(stage), build.escape);
    const createdBy = copyHistory(instr);
    // (--chown as its text: the cache keys made before it was parsed stay valid.)
    return { kind: 'layer', createdBy, material: { createdBy, instr: { ...instr, source: undefined, chown: instr.chown?.text }, cwd: stage.config.WorkingDir ?? '', content: undefined }, instr };
  },
  async read(ctx, instr, state) {
    trace('copy: digesting sources');
    // Many bytes of context files the stat cache does not know (a cold build): the step is
    // staged first and the files hashed as they are copied, so each is read once; the key is
    // made from those digests, and a cache hit then drops the staged tree. Otherwise (a touched
    // file, a small context) the unknown files are only hashed (stageBeforeKey).
    const walk = await copySourceWalk(ctx, instr);
    let prepared: PreparedLayer | undefined;
    try {
      if (walk && stageBeforeKey(walk)) {
        prepared = await stageCopyStep(ctx, state, instr, streamsIntoLayer(ctx, instr) ? 'for the key' : undefined);
        trace('copy: staged before the key');
      }
      const content = await copySourceDigest(ctx, instr, walk);
      trace('copy: sources digested');
      return { material: { content }, prepared };
    } catch (error) {
      await prepared?.release();
      throw error;
    }
  },
  async apply(ctx, instr, state, prepared) {
    if (prepared) return prepared.commit();
    const staged = await stageCopyStep(ctx, state, instr, streamsIntoLayer(ctx, instr) ? 'after the key' : undefined);
    try {
      return await staged.commit();
    } finally {
      await staged.release();
    }
  },
};

/**
 * Staging before the key costs time (a temporary tree, the image's view, the clean-up: ~45 ms
 * when the view was mounted by mount(8), ~10–15 ms now) even when the key then hits, as it does
 * after a `touch` or a fresh checkout; hashing first costs one more read of the unknown bytes when
 * it misses (~1 ms per MB: OpenSSL's sha256 at ~1.7 GB/s from the page cache). So a COPY is staged
 * first only when the unknown bytes are most of it and at least STAGE_FIRST_MIN_BYTES: either way
 * at most ~32–45 ms lost (docs/decisions.md, "Stage a COPY before its key only for many unknown
 * bytes").
 */
export const STAGE_FIRST_MIN_BYTES = 32 * 1024 * 1024;

export function stageBeforeKey(walk: Pick<SourcesWalk, 'unknownBytes' | 'totalBytes'>): boolean {
  return walk.unknownBytes >= STAGE_FIRST_MIN_BYTES && walk.unknownBytes * 2 >= walk.totalBytes;
}

/** A COPY from the context: the deferred walk of its sources (the step decides whether to copy first). */
async function copySourceWalk(ctx: StepContext, instr: CopyInstruction | AddInstruction): Promise<SourcesWalk | undefined> {
  if (instr.kind !== 'copy' || instr.from !== undefined) return undefined;
  return walkContextSources(ctx.env.context, contextSources(instr), ctx.env.statCache, true);
}

/** What a COPY or ADD reads, for its cache key (a COPY's context files from `walk`, when given). */
async function copySourceDigest(ctx: StepContext, instr: CopyInstruction | AddInstruction, walk?: SourcesWalk): Promise<string> {
  if (instr.kind === 'copy' && instr.from !== undefined) return ctx.sources.digest(instr.from, instr, contextSources(instr));
  const digest = walk ? await walk.digest() : await contextSourcesDigest(ctx.env.context, contextSources(instr), ctx.env.statCache);
  if (instr.kind !== 'add') return digest;
  const urls = await Promise.all(instr.sources.filter(isUrl).map((u) => ctx.env.urls.digest(u, instr.checksum)));
  return urls.length === 0 ? digest : `${digest}\0${urls.join('\0')}`;
}

/** The context paths a COPY or ADD reads: --parents copies the folder before a `/./` pivot, filtered, so its whole tree. */
function contextSources(instr: CopyInstruction | AddInstruction): string[] {
  return instr.sources.filter((s) => !isUrl(s)).map((s) => (instr.kind === 'copy' && instr.parents ? parentsRoot(s) : s));
}

function parentsRoot(source: string): string {
  const pivot = source.indexOf('/./');
  return pivot >= 0 ? source.slice(0, pivot) || '/' : '.';
}

/**
 * Whether a COPY's files go into its layer straight from the context (sourced-files.ts): a COPY
 * from a context folder (the build's or a named one), without here-documents, whose tree nothing
 * later in this build reads. A later step would need the tree on disk: unpacking the blob then
 * costs what staging saved, plus the blob's read.
 */
function streamsIntoLayer(ctx: StepContext, instr: CopyInstruction | AddInstruction): boolean {
  if (instr.kind !== 'copy' || instr.heredocs.length > 0 || ctx.laterStepsReadTree) return false;
  return instr.from === undefined || ctx.sources.localContext(instr.from) !== undefined;
}

/**
 * A COPY or ADD staged: its files in a tree of the store's tmp/, to be committed as a layer or
 * dropped. `stream`: a context COPY's files are left in the context and its layer is written
 * now, each file read once for the blob and, before the key ('for the key'), for the digests
 * the stat cache lacks (kept there for the key); the layer then has no unpacked tree until one
 * is asked for.
 */
async function stageCopyStep(ctx: StepContext, state: StageState, instr: CopyInstruction | AddInstruction, stream?: 'for the key' | 'after the key'): Promise<PreparedLayer> {
  const env = ctx.env;
  const workDir = await env.store.tempDir('copy');
  const views: { release(): Promise<void> }[] = [];
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    for (const v of views.splice(0).reverse()) await v.release();
    await env.store.removeTempDir(workDir);
    trace('copy: cleaned up');
  };
  try {
    const imageView = await openRootfsView(await env.store.lowerDirs(state.layers), path.join(workDir, 'image'));
    views.push(imageView);
    let source: CopySource = { kind: 'context', context: env.context };
    const local = instr.kind === 'copy' && instr.from !== undefined ? ctx.sources.localContext(instr.from) : undefined;
    if (local) source = { kind: 'context', context: local };
    else if (instr.kind === 'copy' && instr.from !== undefined) {
      const fromView = await openRootfsView(await env.store.lowerDirs(await ctx.sources.layers(instr.from, instr)), path.join(workDir, 'from'));
      views.push(fromView);
      source = { kind: 'rootfs', dir: fromView.dir, name: instr.from };
    }
    const owner = instr.chown && (await resolveOwner(imageView.dir, instr.chown, instr));
    const stagingRoot = path.join(workDir, 'layer');
    await fs.mkdir(stagingRoot);
    trace('copy: staging');
    const stats = env.statCache;
    let sourced = stream && new SourcedFiles(stagingRoot, stream === 'for the key' ? (src, st) => stats.known(src, st) === undefined : () => false);
    const request: CopyRequest = { instr, source, imageRoot: imageView.dir, workdir: state.config.WorkingDir || '/', owner, stagingRoot };
    try {
      await stageCopy(env, { ...request, sourced });
    } catch (e) {
      if (!(e instanceof TooManySourced)) throw e;
      // Too many entries to hold: staged after all, from a clean tree.
      sourced = undefined;
      await removeTree(stagingRoot);
      await fs.mkdir(stagingRoot);
      await stageCopy(env, request);
    }
    for (const v of views.splice(0).reverse()) await v.release();
    if (sourced && sourced.size > 0) {
      trace('copy: staged all but the sourced files');
      const files = sourced.list();
      const written = await writeLayerBlob(env, stagingRoot, 'plain', { instr, sourced: files });
      for (const h of written.result.hashed ?? []) rememberRead(stats, files[h.index].source, h);
      trace('copy: layer written from the context');
      return { commit: () => storeLayer(env, written), release };
    }
    return {
      commit: async () => {
        trace('copy: committing');
        const layer = await commitLayer(env, stagingRoot, 'plain', { keepEmpty: true, instr });
        trace('copy: committed');
        return layer;
      },
      release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}

/** --chown's ids in the image (undefined: `--chown=` sets none); a name it lacks is the step's error. */
async function resolveOwner(root: string, chown: Chown, instr: Instruction): Promise<{ uid: number; gid: number } | undefined> {
  try {
    return await resolveChown(root, chown);
  } catch (error) {
    throw new DockerfileError(loc(instr), `--chown=${chown.text}: ${(error as Error).message}`, { cause: error });
  }
}
