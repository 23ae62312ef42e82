// The build context: a folder, filtered by .dockerignore. Resolves COPY/ADD
// source patterns to files, refusing anything outside the context.
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { IgnoreMatcher, readIgnorePatterns } from './dockerignore.js';
import { hasWildcard, segmentMatcher, unescapeSegment } from './glob.js';
import { NbuildError } from '../errors.js';

export interface ContextEntry {
  /** Path relative to the context root, '/'-separated ('' for the root). */
  rel: string;
  abs: string;
  stat: Stats;
}

export class BuildContext {
  private constructor(
    readonly dir: string,
    readonly ignore: IgnoreMatcher,
  ) {}

  static async open(dir: string, dockerfilePath: string | undefined): Promise<BuildContext> {
    const abs = path.resolve(dir);
    const st = statIfAny(abs);
    if (!st?.isDirectory()) throw new NbuildError('CONTEXT_NOT_FOUND', `build context ${dir} is not a folder`);
    const patterns = await readIgnorePatterns(abs, dockerfilePath ?? path.join(abs, 'Dockerfile'));
    return new BuildContext(abs, new IgnoreMatcher(patterns));
  }

  isExcluded(rel: string, isDir: boolean): boolean {
    return rel !== '' && this.ignore.excludes(rel, isDir);
  }

  /**
   * Expands one COPY source (wildcards allowed) to the entries it names. Synchronous: a few
   * lookups per source, each of which through libuv's thread pool cost ~0.3 ms of waiting here
   * (docs/decisions.md, "Cached steps looked up in place").
   */
  resolve(source: string): ContextEntry[] {
    const cleaned = path.posix.normalize('/' + source).slice(1).replace(/\/+$/, '');
    if (source.split('/').includes('..') && path.posix.normalize(source).startsWith('..')) {
      throw new NbuildError('OUTSIDE_CONTEXT', `source ${source} is outside the build context`);
    }
    const segments = cleaned === '' ? [] : cleaned.split('/');
    const found = this.expand('', segments);
    const kept: ContextEntry[] = [];
    for (const e of found) {
      // An excluded folder still counts when a `!` exception lets a file
      // below it through (`**` + `!dir/file`, then `COPY dir …`), as in Docker.
      if (!this.isExcluded(e.rel, e.stat.isDirectory()) || (e.stat.isDirectory() && this.hasIncludedFile(e.abs, e.rel))) kept.push(e);
    }
    return kept;
  }

  private hasIncludedFile(abs: string, rel: string): boolean {
    if (this.ignore.canSkipDirectory(rel)) return false;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const childRel = `${rel}/${entry.name}`;
      if (!this.isExcluded(childRel, entry.isDirectory())) return true;
      if (entry.isDirectory() && this.hasIncludedFile(path.join(abs, entry.name), childRel)) return true;
    }
    return false;
  }

  /**
   * As fsutil's ResolveWildcards: the segments before the first wildcard are a plain path (a `\`
   * in them is a name character); from the first wildcard on, every segment is a Match pattern
   * (so `\?` there is a literal `?`). `globbing` says we are past the first wildcard.
   */
  private expand(base: string, segments: string[], globbing = false): ContextEntry[] {
    if (segments.length === 0) {
      const abs = path.join(this.dir, base);
      const stat = statIfAny(abs); // top-level sources follow symlinks
      if (!stat) return [];
      // The C library's realpath, as fs.promises.realpath (fs.realpathSync is JavaScript, a call per component).
      const real = realpathSync.native(abs);
      if (real !== this.dir && !real.startsWith(this.dir + path.sep)) {
        throw new NbuildError('OUTSIDE_CONTEXT', `source ${base} points outside the build context`);
      }
      return [{ rel: base, abs, stat }];
    }
    const [head, ...rest] = segments;
    if (!hasWildcard(head)) {
      const name = globbing ? unescapeSegment(head) : head;
      return name === undefined ? [] : this.expand(base ? `${base}/${name}` : name, rest, globbing);
    }
    const re = segmentMatcher(head);
    let names: string[];
    try {
      names = readdirSync(path.join(this.dir, base));
    } catch {
      names = [];
    }
    const out: ContextEntry[] = [];
    for (const name of names.sort()) {
      if (re.test(name)) out.push(...this.expand(base ? `${base}/${name}` : name, rest, true));
    }
    return out;
  }
}

/** The stat of `file` (following links), or undefined when it cannot be had. */
function statIfAny(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
