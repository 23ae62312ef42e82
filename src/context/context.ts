// The build context: a folder, filtered by .dockerignore. Resolves COPY/ADD
// source patterns to files, refusing anything outside the context.
import * as fs from 'node:fs/promises';
import type { Stats } from 'node:fs';
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
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw new NbuildError('CONTEXT_NOT_FOUND', `build context ${dir} is not a folder`);
    const patterns = await readIgnorePatterns(abs, dockerfilePath ?? path.join(abs, 'Dockerfile'));
    return new BuildContext(abs, new IgnoreMatcher(patterns));
  }

  isExcluded(rel: string, isDir: boolean): boolean {
    return rel !== '' && this.ignore.excludes(rel, isDir);
  }

  /** Expands one COPY source (wildcards allowed) to the entries it names. */
  async resolve(source: string): Promise<ContextEntry[]> {
    const cleaned = path.posix.normalize('/' + source).slice(1).replace(/\/+$/, '');
    if (source.split('/').includes('..') && path.posix.normalize(source).startsWith('..')) {
      throw new NbuildError('OUTSIDE_CONTEXT', `source ${source} is outside the build context`);
    }
    const segments = cleaned === '' ? [] : cleaned.split('/');
    const found = await this.expand('', segments);
    const kept: ContextEntry[] = [];
    for (const e of found) {
      // An excluded folder still counts when a `!` exception lets a file
      // below it through (`**` + `!dir/file`, then `COPY dir …`), as in Docker.
      if (!this.isExcluded(e.rel, e.stat.isDirectory()) || (e.stat.isDirectory() && (await this.hasIncludedFile(e.abs, e.rel)))) kept.push(e);
    }
    return kept;
  }

  private async hasIncludedFile(abs: string, rel: string): Promise<boolean> {
    if (this.ignore.canSkipDirectory(rel)) return false;
    for (const entry of await fs.readdir(abs, { withFileTypes: true })) {
      const childRel = `${rel}/${entry.name}`;
      if (!this.isExcluded(childRel, entry.isDirectory())) return true;
      if (entry.isDirectory() && (await this.hasIncludedFile(path.join(abs, entry.name), childRel))) return true;
    }
    return false;
  }

  /**
   * As fsutil's ResolveWildcards: the segments before the first wildcard are a plain path (a `\`
   * in them is a name character); from the first wildcard on, every segment is a Match pattern
   * (so `\?` there is a literal `?`). `globbing` says we are past the first wildcard.
   */
  private async expand(base: string, segments: string[], globbing = false): Promise<ContextEntry[]> {
    if (segments.length === 0) {
      const abs = path.join(this.dir, base);
      const stat = await fs.stat(abs).catch(() => undefined); // top-level sources follow symlinks
      if (!stat) return [];
      const real = await fs.realpath(abs);
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
    const names = await fs.readdir(path.join(this.dir, base)).catch(() => [] as string[]);
    const out: ContextEntry[] = [];
    for (const name of names.sort()) {
      if (re.test(name)) out.push(...(await this.expand(base ? `${base}/${name}` : name, rest, true)));
    }
    return out;
  }
}
