// The pattern matcher of `${V#p}`, `${V%p}`, `${V/p/r}` (src/frontend/dockerfile/shell-pattern.ts)
// runs in linear time; on small inputs it must agree exactly with the backtracking RegExp it
// replaced (kept below as the oracle), which passed BuildKit's shell conformance cases.
import test from 'ava';
import { trimPrefix, trimSuffix, replacePattern } from '../../src/frontend/dockerfile/shell-pattern.js';
import { processWord } from '../../src/frontend/dockerfile/index.js';
import { seededRandom } from '../helpers/prng.js';

// ---- the oracle: the RegExp translation nbuild used before ----
const SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);
function toRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') out += greedy ? '[^]*' : '[^]*?';
    else if (ch === '?') out += '[^]';
    else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new Error(`invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      i++;
    } else out += SPECIAL.has(ch) ? '\\' + ch : ch;
  }
  return new RegExp(out, 'u');
}
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift(chars[i], chars[i + 1]);
      i += 2;
    } else out.unshift(chars[i++]);
  }
  return out.join('');
}
const reverse = (s: string): string => Array.from(s).reverse().join('');
function oraclePrefix(pattern: string, value: string, greedy: boolean): string {
  const m = toRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}
const oracleSuffix = (p: string, v: string, g: boolean): string => reverse(oraclePrefix(reversePattern(p), reverse(v), g));
function expandTemplate(template: string, match: string): string {
  return template.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))?/g, (_a: string, tok?: string, braced?: string, bare?: string) =>
    tok === undefined || tok === '$' ? '$' : (braced ?? bare ?? '') === '0' ? match : '');
}
function oracleReplace(pattern: string, value: string, replacement: string, all: boolean): string {
  const global = new RegExp(toRegExp(pattern, true, false).source, 'gu');
  let out = '';
  let last = 0;
  let prevEnd = -1;
  for (let m = global.exec(value); m !== null; m = global.exec(value)) {
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      global.lastIndex = end + (value.codePointAt(end) !== undefined && value.codePointAt(end)! > 0xffff ? 2 : 1);
      if (m.index === prevEnd) continue;
    }
    if (!all) return value.slice(0, m.index) + replacement + value.slice(end);
    out += value.slice(last, m.index) + expandTemplate(replacement, m[0]);
    last = end;
    prevEnd = end;
    if (global.lastIndex > value.length) break;
  }
  return all ? out + value.slice(last) : value;
}

test('agrees with the RegExp matcher on 20,000 random patterns and values', (t) => {
  const rand = seededRandom(13);
  const pick = (s: string[]): string => s[Math.floor(rand() * s.length)];
  const patternParts = ['*', '?', 'a', 'b', 'ab', '\\*', '\\?', '\\\\', '.', '$', '😀', 'é'];
  const valueParts = ['a', 'b', 'c', 'ab', '*', '?', '\\', '.', '$', '😀', 'é', ' '];
  const replacements = ['', 'X', '$0', '[$0]', '$$', '$1', '${0}'];
  let compared = 0;
  for (let k = 0; k < 20_000; k++) {
    const pattern = Array.from({ length: Math.floor(rand() * 6) }, () => pick(patternParts)).join('');
    const value = Array.from({ length: Math.floor(rand() * 9) }, () => pick(valueParts)).join('');
    const greedy = rand() < 0.5;
    const replacement = pick(replacements);
    const all = rand() < 0.5;
    const where = `pattern ${JSON.stringify(pattern)} value ${JSON.stringify(value)}`;
    if (trimPrefix(pattern, value, greedy) !== oraclePrefix(pattern, value, greedy)) return t.fail(`#${greedy ? '#' : ''} ${where}`);
    if (trimSuffix(pattern, value, greedy) !== oracleSuffix(pattern, value, greedy)) return t.fail(`%${greedy ? '%' : ''} ${where}`);
    if (replacePattern(pattern, value, replacement, all) !== oracleReplace(pattern, value, replacement, all)) {
      return t.fail(`/${all ? '/' : ''} ${where} replacement ${JSON.stringify(replacement)}: ${replacePattern(pattern, value, replacement, all)} != ${oracleReplace(pattern, value, replacement, all)}`);
    }
    compared++;
  }
  t.is(compared, 20_000);
});

test('patterns that made the RegExp backtrack for ever take milliseconds; a costly match is a limit error', (t) => {
  const a = 'a'.repeat(100_000);
  const env = (n: string): string | undefined => (n === 'A' ? a : undefined);
  const started = Date.now();
  t.is(processWord('${A#*a*a*a*a*a*b}', env), a);
  t.is(processWord('${A%%*a*a*a*a*b}', env), a);
  t.is(processWord('${A//*a*a*a*b/x}', env), a);
  t.is(processWord('${A##*a}', env), '');
  t.true(Date.now() - started < 5_000, `${Date.now() - started} ms`);
  // value × pattern past the bound: a located limit error, not minutes of work
  const long = '*a'.repeat(2_000);
  t.throws(() => processWord(`\${A#${long}b}`, env), { message: /matching the pattern against the value takes more than/ });
});
