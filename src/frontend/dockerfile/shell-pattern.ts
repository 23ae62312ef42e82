// Shell glob patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: `*` and `?` with `\` escapes, no
// bracket expressions (as BuildKit). Strings are handled as code points, so a pattern `?`
// matches one character, not one UTF-16 unit.
//
// Matched by simulating the pattern's automaton, not by a backtracking RegExp: `${A#*a*a*a*b}`
// on a long A took forever (and with it the event loop, so no signal was handled). BuildKit's
// Go regexp is linear-time too. Cost: O(value × pattern), bounded by MAX_PATTERN_WORK.
import { MAX_PATTERN_WORK, PatternTooCostlyError, WordTooLongError } from './limits.js';

/** One pattern element: `*` (any run), `?` (any one character) or a literal character. */
type Atom = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string };

export function compilePattern(pattern: string): Atom[] {
  const chars = Array.from(pattern);
  const atoms: Atom[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') atoms.push({ kind: 'star' });
    else if (ch === '?') atoms.push({ kind: 'any' });
    else if (ch === '\\') {
      const next = chars[i + 1];
      // `\}` and `\/` only protect the ${} syntax; the escape is not part of the pattern
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      atoms.push({ kind: 'char', ch: next });
      i++;
    } else atoms.push({ kind: 'char', ch });
  }
  return atoms;
}

/**
 * The automaton's live states, each with the position its match started at (the smallest, for
 * leftmost matches). State j: atoms[0..j) matched; j = atoms.length accepts.
 */
class Threads {
  readonly states: number[] = [];
  private readonly start: Int32Array;

  constructor(private readonly atoms: Atom[]) {
    this.start = new Int32Array(atoms.length + 1).fill(-1);
  }

  /** Adds state j (and, past each `*`, the states it may skip to) for a match from `from`. */
  add(j: number, from: number): void {
    for (;;) {
      const known = this.start[j];
      if (known !== -1 && known <= from) return;
      if (known === -1) this.states.push(j);
      this.start[j] = from;
      if (j < this.atoms.length && this.atoms[j].kind === 'star') j++;
      else return;
    }
  }

  startOf(j: number): number {
    return this.start[j];
  }
}

class Matcher {
  private work = 0;

  constructor(
    private readonly atoms: Atom[],
    private readonly chars: string[],
  ) {}

  /** The threads after reading chars[i] from `cur` (those starting after `maxStart` dropped). */
  private step(cur: Threads, i: number, maxStart: number): Threads {
    const next = new Threads(this.atoms);
    const ch = this.chars[i];
    this.work += cur.states.length;
    if (this.work > MAX_PATTERN_WORK) throw new PatternTooCostlyError();
    for (const j of cur.states) {
      const from = cur.startOf(j);
      if (from > maxStart || j === this.atoms.length) continue;
      const a = this.atoms[j];
      if (a.kind === 'star') next.add(j, from);
      else if (a.kind === 'any' || a.ch === ch) next.add(j + 1, from);
    }
    return next;
  }

  /** End of the shortest (or longest) match starting at 0, or -1. */
  prefix(longest: boolean): number {
    const accept = this.atoms.length;
    let cur = new Threads(this.atoms);
    cur.add(0, 0);
    let found = cur.startOf(accept) !== -1 ? 0 : -1;
    for (let i = 0; i < this.chars.length && cur.states.length > 0; i++) {
      if (found !== -1 && !longest) break;
      cur = this.step(cur, i, 0);
      if (cur.startOf(accept) !== -1) found = i + 1;
    }
    return found;
  }

  /**
   * The leftmost match starting at or after `pos`, and the longest from there, as [start, end);
   * with only `*`, `?` and literals that is the match Go's leftmost-first greedy regexp finds.
   */
  search(pos: number): [number, number] | undefined {
    const accept = this.atoms.length;
    let best: [number, number] | undefined;
    let cur = new Threads(this.atoms);
    for (let i = pos; ; i++) {
      if (!best) cur.add(0, i);
      const s = cur.startOf(accept);
      if (s !== -1 && (!best || s < best[0] || (s === best[0] && i > best[1]))) best = [s, i];
      if (i === this.chars.length) break;
      cur = this.step(cur, i, best ? best[0] : Number.MAX_SAFE_INTEGER);
      if (best && cur.states.length === 0) break;
    }
    return best;
  }
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value);
  const end = new Matcher(compilePattern(pattern), chars).prefix(greedy);
  return end === -1 ? value : chars.slice(end).join('');
}

/** Shortest/longest suffix: the reversed pattern as a prefix of the reversed value. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const chars = Array.from(value).reverse();
  const end = new Matcher(compilePattern(pattern).reverse(), chars).prefix(greedy);
  return end === -1 ? value : chars.slice(end).reverse().join('');
}

/** Go's Regexp.Expand for a pattern without groups: `$$`, `$0`, other names are empty. */
function expandTemplate(template: string, match: string): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))?/g, (all: string, tok?: string, braced?: string, bare?: string) => {
    if (tok === undefined) return '$';
    if (tok === '$') return '$';
    const name = braced ?? bare ?? '';
    return name === '0' ? match : '';
  });
}

/**
 * `${V/pattern/replacement}` (first match) and `${V//pattern/replacement}` (every match), like
 * Go's ReplaceAllString: the replacement of every match expands `$`-templates, and an empty match
 * right after a previous match is skipped. A result longer than `maxLength` throws
 * WordTooLongError as soon as it is.
 */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean, maxLength = Infinity): string {
  const chars = Array.from(value);
  const matcher = new Matcher(compilePattern(pattern), chars);
  const text = (from: number, to?: number): string => chars.slice(from, to).join('');
  if (!all) {
    const m = matcher.search(0);
    if (!m) return value;
    const once = text(0, m[0]) + replacement + text(m[1]);
    if (once.length > maxLength) throw new WordTooLongError();
    return once;
  }
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (let pos = 0; pos <= chars.length; ) {
    const m = matcher.search(pos);
    if (!m) break;
    const [start, end] = m;
    if (start === end && start === prevEnd) {
      pos = start + 1;
      continue;
    }
    out += text(last, start) + expandTemplate(replacement, text(start, end));
    if (out.length > maxLength) throw new WordTooLongError();
    last = end;
    prevEnd = end;
    pos = start === end ? end + 1 : end;
  }
  const result = out + text(last);
  if (result.length > maxLength) throw new WordTooLongError();
  return result;
}
