// Shell glob patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: `*` and `?` with
// `\` escapes, no bracket expressions (as BuildKit). Strings are handled as
// code points, so a pattern `?` matches one character, not one UTF-16 unit.
import { WordTooLongError } from './limits.js';

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** Converts a shell pattern to a RegExp; `greedy` picks `.*` over `.*?`. */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      out += greedy ? '[^]*' : '[^]*?';
    } else if (ch === '?') {
      out += '[^]';
    } else if (ch === '\\') {
      const next = chars[i + 1];
      // `\}` and `\/` only protect the ${} syntax; the escape is not part of the pattern
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      i++;
    } else if (REGEX_SPECIAL.has(ch)) {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return new RegExp(out, 'u');
}

/** Reverses a pattern but keeps escape pairs in order (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift(chars[i], chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i]);
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string): string => Array.from(s).reverse().join('');

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Shortest/longest suffix: reverse both so a leftmost match finds it. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
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
 * Replaces the first (or every) match like Go's ReplaceAllString: the
 * replacement expands `$`-templates, and an empty match right after a previous
 * match is skipped. A result longer than `maxLength` throws WordTooLongError as soon as it is.
 */
export function goReplace(re: RegExp, value: string, replacement: string, all: boolean, maxLength = Infinity): string {
  const global = new RegExp(re.source, 'gu');
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (let m = global.exec(value); m !== null; m = global.exec(value)) {
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      global.lastIndex = end + (value.codePointAt(end) !== undefined && value.codePointAt(end)! > 0xffff ? 2 : 1);
      if (m.index === prevEnd) continue;
    }
    if (!all) {
      const once = value.slice(0, m.index) + replacement + value.slice(end);
      if (once.length > maxLength) throw new WordTooLongError();
      return once;
    }
    out += value.slice(last, m.index) + expandTemplate(replacement, m[0]);
    if (out.length > maxLength) throw new WordTooLongError();
    last = end;
    prevEnd = end;
    if (global.lastIndex > value.length) break;
  }
  if (!all) return value;
  const result = out + value.slice(last);
  if (result.length > maxLength) throw new WordTooLongError();
  return result;
}
