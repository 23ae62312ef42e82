// .dockerignore: parsing and matching with BuildKit's semantics
// (moby/patternmatcher MatchesOrParentMatches): the last pattern matching a
// path or one of its parent directories decides; `!` patterns re-include.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NbuildError } from '../errors.js';
import { pathMatcher, type PathMatcher } from './glob.js';

/** Go's filepath.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(seg);
  }
  const joined = out.join('/');
  return rooted ? '/' + joined : joined === '' ? '.' : joined;
}

/** A .dockerignore file's text → patterns (comments dropped, cleaned, `/` prefix removed). */
export function parseIgnoreFile(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const line of lines) {
    if (line.startsWith('#')) continue; // only a `#` in column 0 starts a comment
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? '!' + pattern : pattern);
  }
  return patterns;
}

/** Go filepath.Match's syntax rules: escapes need a character, classes must be well formed. */
function goPatternSyntaxError(pattern: string): string | undefined {
  const c = Array.from(pattern);
  let i = 0;
  // one class member: `-` and `]` are not allowed where a character is expected
  const member = (): boolean => {
    if (i >= c.length || c[i] === '-' || c[i] === ']') return false;
    if (c[i] === '\\') i++;
    if (i >= c.length) return false;
    i++;
    return true;
  };
  while (i < c.length) {
    const ch = c[i++];
    if (ch === '\\') {
      if (i >= c.length) return 'trailing escape';
      i++;
    } else if (ch === '[') {
      if (c[i] === '^') i++;
      let first = true;
      for (;;) {
        if (i < c.length && c[i] === ']' && !first) {
          i++;
          break;
        }
        if (!member()) return 'malformed character class';
        if (c[i] === '-') {
          i++;
          if (!member()) return 'malformed character range';
        }
        first = false;
      }
    }
  }
  return undefined;
}

interface Pattern {
  text: string;
  exclusion: boolean;
  matcher: PathMatcher;
}

function badPattern(pattern: string, why: string): NbuildError {
  return new NbuildError('DOCKERIGNORE', `.dockerignore: syntax error in pattern ${JSON.stringify(pattern)}: ${why}`);
}

function compile(raw: string): Pattern {
  let text = cleanPath(raw.trim());
  const exclusion = text.startsWith('!');
  if (exclusion) {
    if (text.length === 1) throw badPattern('!', 'illegal exclusion pattern: "!"');
    text = text.slice(1);
  }
  const syntax = goPatternSyntaxError(text);
  if (syntax !== undefined) throw badPattern(raw, syntax);
  // The automaton of glob.ts, not a RegExp: a hostile .dockerignore's `**/**/**/a*a*a*b` took
  // seconds per name with V8's backtracking.
  return { text, exclusion, matcher: pathMatcher(text) };
}

function matchOne(p: Pattern, path: string): boolean {
  // Go reports a backwards class range only when matching; so does this.
  if (p.matcher.badRange !== undefined) throw badPattern(p.text, p.matcher.badRange);
  return p.matcher.test(path);
}

export class IgnoreMatcher {
  private readonly patterns: Pattern[];
  /** The patterns as given (what a cached summary of a walk is keyed by). */
  readonly source: readonly string[];

  constructor(patterns: readonly string[]) {
    this.source = [...patterns];
    this.patterns = patterns.filter((p) => p.trim() !== '').map(compile);
  }

  /** No patterns: nothing is excluded (the walk then asks nothing per entry). */
  get matchesNothing(): boolean {
    return this.patterns.length === 0;
  }

  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** True when `relPath` (slash-separated, relative to the context) must not be sent. */
  excludes(relPath: string, isDir: boolean): boolean {
    void isDir; // patterns match files and directories alike (`docs/` = `docs`)
    // no .dockerignore: nothing to do (called once per context entry on every COPY . digest)
    if (this.patterns.length === 0) return false;
    const file = relPath;
    const slash = file.lastIndexOf('/');
    const parent = slash < 0 ? '.' : cleanPath(file.slice(0, slash) || '/');
    const parentDirs = parent.split('/');
    let matched = false;
    for (const p of this.patterns) {
      // an include can only flip an unmatched path, an exception only a matched one
      if (p.exclusion !== matched) continue;
      let match = matchOne(p, file);
      if (!match && parent !== '.') {
        for (let i = 1; i <= parentDirs.length && !match; i++) match = matchOne(p, parentDirs.slice(0, i).join('/'));
      }
      if (match) matched = !p.exclusion;
    }
    return matched;
  }

  // True when a pattern excludes everything at the context root: "*", "**" or "**/*".
  excludesRoot(): boolean {
    return this.patterns.some((p) => !p.exclusion && (p.text === '*' || p.text === '**' || p.text === '**/*'));
  }

  /**
   * True when `relDir` is excluded and no exception pattern could re-include
   * anything below it, so a walker need not descend.
   */
  canSkipDirectory(relDir: string): boolean {
    if (!this.excludes(relDir, true)) return false;
    const dir = relDir.replace(/\/+$/, '') + '/';
    for (const p of this.patterns) {
      if (!p.exclusion) continue;
      const wild = p.text.search(/[*?[\\]/);
      const prefix = wild < 0 ? p.text : p.text.slice(0, wild);
      if (prefix === '' || prefix.startsWith(dir) || dir.startsWith(prefix)) return false;
    }
    return true;
  }
}

/**
 * The patterns for a build: `<Dockerfile>.dockerignore` beside the Dockerfile
 * wins over `CONTEXT/.dockerignore`, then `CONTEXT/.containerignore`; none → [].
 */
export async function readIgnorePatterns(contextDir: string, dockerfilePath: string): Promise<string[]> {
  const candidates = dockerfilePath === '-' ? [] : [`${dockerfilePath}.dockerignore`];
  // .containerignore (podman, buildah) where there is no .dockerignore
  candidates.push(join(contextDir, '.dockerignore'), join(contextDir, '.containerignore'));
  for (const path of candidates) {
    try {
      return parseIgnoreFile(readFileSync(path, 'utf8')); // a small file: one read, no thread-pool round trips
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return [];
}
