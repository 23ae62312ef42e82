// Go filepath.Match for one path segment (COPY source wildcards): `*` and `?`
// never cross `/`, `[a-z]`/`[^a-z]` classes, `\` escapes.
//
// Matched with the iterative wildcard algorithm (one backtrack point: the last
// `*`), not a RegExp: V8's backtracking turned `*a*a*a*…b` on a long name into
// minutes with the event loop blocked. Cost: O(pattern × name) at worst.

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

type Atom = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string } | { kind: 'class'; negated: boolean; ranges: [string, string][] };

export interface SegmentMatcher {
  test(name: string): boolean;
}

/** Compiles one segment pattern; throws on a malformed class as Go's ErrBadPattern does. */
export function segmentMatcher(pattern: string): SegmentMatcher {
  const atoms = compile(pattern);
  return { test: (name) => matchAtoms(atoms, Array.from(name)) };
}

function compile(pattern: string): Atom[] {
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
    if (ch === '*') {
      if (atoms[atoms.length - 1]?.kind !== 'star') atoms.push({ kind: 'star' });
    } else if (ch === '?') atoms.push({ kind: 'any' });
    else if (ch === '\\') {
      if (i + 1 >= p.length) throw bad();
      atoms.push({ kind: 'char', ch: p[++i] });
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

function matchOne(a: Atom, ch: string): boolean {
  switch (a.kind) {
    case 'any':
      return ch !== '/';
    case 'char':
      return a.ch === ch;
    case 'class': {
      const cp = ch.codePointAt(0) ?? 0;
      const inside = a.ranges.some(([lo, hi]) => (lo.codePointAt(0) ?? 0) <= cp && cp <= (hi.codePointAt(0) ?? 0));
      return inside !== a.negated;
    }
    default:
      return false;
  }
}

/** Anchored match; on a mismatch, the last `*` takes one more character and the rest retries. */
function matchAtoms(atoms: Atom[], name: string[]): boolean {
  let a = 0;
  let n = 0;
  let starAtom = -1;
  let starName = 0;
  while (n < name.length) {
    const atom = atoms[a];
    if (atom?.kind === 'star') {
      starAtom = a++;
      starName = n;
    } else if (atom && matchOne(atom, name[n])) {
      a++;
      n++;
    } else if (starAtom >= 0 && name[starName] !== '/') {
      a = starAtom + 1;
      n = ++starName;
    } else return false;
  }
  while (atoms[a]?.kind === 'star') a++;
  return a === atoms.length;
}
