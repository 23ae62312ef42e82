// Go filepath.Match for one path segment (COPY source wildcards): `*` and `?`
// never cross `/`, `[a-z]`/`[^a-z]` classes, `\` escapes.
//
// .dockerignore patterns (`**` across folders) are matched here too: one matcher,
// an automaton simulated over the set of live positions, never a backtracking
// RegExp. Cost: O(pattern × name) at worst.

/** Whether a segment has an unescaped `*`, `?` or `[` (fsutil's containsWildcards). */
export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern.replace(/\\./g, ''));
}

/**
 * A segment without wildcards as the name it matches (`\x` is `x`), or undefined for a
 * pattern Go rejects (a trailing lone `\`), which matches nothing.
 */
export function unescapeSegment(pattern: string): string | undefined {
  if (/(^|[^\\])(\\\\)*\\$/.test(pattern)) return undefined;
  return pattern.replace(/\\(.)/gs, '$1');
}

/**
 * One pattern element. `star` is `*` (a run without `/`), `any` is `?`; the .dockerignore
 * dialect adds `dirs` (`**` before more pattern: nothing, or anything ending in `/`) and `rest`
 * (a trailing `**`: anything). As in the Go regexps BuildKit's patternmatcher builds, `dirs` and
 * `rest` never take a newline.
 */
type Atom =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'dirs' }
  | { kind: 'rest' }
  | { kind: 'char'; ch: string }
  | { kind: 'class'; negated: boolean; ranges: [string, string][] };

export interface SegmentMatcher {
  test(name: string): boolean;
}

/** Compiles one segment pattern; throws on a malformed class as Go's ErrBadPattern does. */
export function segmentMatcher(pattern: string): SegmentMatcher {
  const atoms = compile(pattern, false);
  return { test: (name) => matchAtoms(atoms, Array.from(name)) };
}

export interface PathMatcher extends SegmentMatcher {
  /** A class whose range runs backwards (`[z-a]`): Go's regexp rejects it when matching. */
  readonly badRange?: string;
}

/**
 * A whole-path pattern in the .dockerignore dialect (moby/patternmatcher): `*`, `?`, classes and
 * `\` escapes as in segmentMatcher, plus `**` (`**\/` too) for any number of folders, and the
 * Perl classes `\d \w \s` (and negations) that its regexp translation gives escapes. Throws on a
 * malformed class.
 */
export function pathMatcher(pattern: string): PathMatcher {
  const atoms = compile(pattern, true);
  const reversed = atoms.find((a) => a.kind === 'class' && a.ranges.some(([lo, hi]) => cp(lo) > cp(hi)));
  return {
    test: (path) => matchAtoms(atoms, Array.from(path)),
    badRange: reversed ? `invalid character class range in ${pattern}` : undefined,
  };
}

const cp = (ch: string): number => ch.codePointAt(0) ?? 0;

// Go regexp's Perl classes, which patternmatcher's `\d`-style escapes become.
const PERL_CLASSES: Record<string, [string, string][]> = {
  d: [['0', '9']],
  w: [['0', '9'], ['A', 'Z'], ['_', '_'], ['a', 'z']],
  s: [['\t', '\n'], ['\f', '\r'], [' ', ' ']],
};

function compile(pattern: string, dockerignore: boolean): Atom[] {
  const p = Array.from(pattern);
  const atoms: Atom[] = [];
  const bad = (): Error => new Error(`syntax error in pattern ${pattern}`);
  // One class character, `\`-escaped or not (Go's getEsc).
  const classChar = (i: number): [string, number] => {
    let ch = p[i];
    if (ch === undefined || ch === '-' || ch === ']') throw bad();
    if (ch === '\\') {
      ch = p[++i];
      if (ch === undefined) throw bad();
    }
    if (i + 1 >= p.length) throw bad();
    return [ch, i + 1];
  };
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '*' && dockerignore && p[i + 1] === '*') {
      i++;
      if (p[i + 1] === '/') i++; // `**/` is `**`
      atoms.push({ kind: i + 1 >= p.length ? 'rest' : 'dirs' });
    } else if (ch === '*') {
      if (atoms[atoms.length - 1]?.kind !== 'star') atoms.push({ kind: 'star' });
    } else if (ch === '?') atoms.push({ kind: 'any' });
    else if (ch === '\\') {
      if (i + 1 >= p.length) throw bad();
      const next = p[++i];
      const perl = dockerignore ? PERL_CLASSES[next.toLowerCase()] : undefined;
      if (perl) atoms.push({ kind: 'class', negated: next !== next.toLowerCase(), ranges: perl });
      else atoms.push({ kind: 'char', ch: next });
    } else if (ch === '[') {
      let j = i + 1;
      const negated = p[j] === '^';
      if (negated) j++;
      const ranges: [string, string][] = [];
      for (;;) {
        if (p[j] === ']' && ranges.length > 0) break;
        const [lo, afterLo] = classChar(j);
        let hi = lo;
        j = afterLo;
        if (p[j] === '-') [hi, j] = classChar(j + 1);
        ranges.push([lo, hi]);
      }
      atoms.push({ kind: 'class', negated, ranges });
      i = j;
    } else atoms.push({ kind: 'char', ch });
  }
  return atoms;
}

/** Whether atom `a` (not star, dirs or rest) takes character `ch`. */
function takes(a: Atom, ch: string): boolean {
  switch (a.kind) {
    case 'any':
      return ch !== '/';
    case 'char':
      return a.ch === ch;
    case 'class': {
      const c = cp(ch);
      const inside = a.ranges.some(([lo, hi]) => cp(lo) <= c && c <= cp(hi));
      return inside !== a.negated;
    }
    default:
      return false;
  }
}

/**
 * Anchored match by simulating the pattern's automaton over the set of live positions (no
 * backtracking: a RegExp took seconds on `**\/**\/**\/a*a*a*b` against a 50-character name, and
 * V8's backtracking turned `*a*a*a*…b` into minutes). Position j: atoms[0..j) matched; a star,
 * dirs or rest position may also be skipped (they match the empty string). A dirs position that
 * has taken characters is `inside`: it can only be left on a `/`. Cost: O(atoms × characters).
 */
function matchAtoms(atoms: Atom[], name: string[]): boolean {
  const n = atoms.length;
  let live = new Uint8Array(n + 1); // bit 1: at j; bit 2: inside a dirs atom j
  let next = new Uint8Array(n + 1);
  const enter = (set: Uint8Array, j: number): void => {
    while (j <= n && !(set[j] & 1)) {
      set[j] |= 1;
      const k = atoms[j]?.kind;
      if (k === 'star' || k === 'dirs' || k === 'rest') j++;
      else return;
    }
  };
  enter(live, 0);
  for (const ch of name) {
    next.fill(0);
    let any = false;
    for (let j = 0; j < n; j++) {
      if (!live[j]) continue;
      any = true;
      const a = atoms[j];
      if (a.kind === 'star') {
        if (ch !== '/') enter(next, j);
      } else if (a.kind === 'rest') {
        if (ch !== '\n') enter(next, j);
      } else if (a.kind === 'dirs') {
        if (ch !== '\n') next[j] |= 2; // `.*` of `(.*/)?` goes on
        if (ch === '/') enter(next, j + 1); // the `/` that ends it
      } else if (live[j] & 1 && takes(a, ch)) enter(next, j + 1);
    }
    if (!any) return false;
    [live, next] = [next, live];
  }
  return (live[n] & 1) === 1;
}
