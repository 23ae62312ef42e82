import test from 'ava';
import { join } from 'node:path';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { IgnoreMatcher, parseIgnoreFile, readIgnorePatterns, cleanPath } from '../../src/context/dockerignore.js';
import { conformanceDir, readJson, reportMissing } from '../frontend/conformance.js';
import { seededRandom } from '../helpers/prng.js';

interface MatchCase { patterns: string[]; path: string; expected: boolean | 'error'; platform: string }
interface Cases {
  matches: MatchCase[];
  legacyMatches: MatchCase[];
  patternCleaning: { patterns: string[]; expectedPatternCount?: number; expectedHasExclusions?: boolean; expected?: string; path?: string }[];
  ignorefileReadAll: { input: string; expected: string[] };
  walk: { tree: string[]; excludePatterns?: string[]; includePatterns?: string[]; expectedWalk?: string[]; expected?: string }[];
}

function outcome(patterns: string[], path: string): boolean | 'error' {
  try {
    return new IgnoreMatcher(patterns).excludes(path, false);
  } catch {
    return 'error';
  }
}

/** A depth-first walk sending what is not excluded, plus excluded dirs something below re-includes. */
function walk(tree: string[], patterns: string[]): string[] {
  const m = new IgnoreMatcher(patterns);
  const entries = tree.map((e) => ({ kind: e.split(' ')[0], path: e.slice(e.indexOf(' ') + 1) })).sort((a, b) => (a.path < b.path ? -1 : 1));
  const kept = new Set(entries.filter((e) => !m.excludes(e.path, e.kind === 'dir')).map((e) => e.path));
  for (const p of [...kept]) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) kept.add(p.slice(0, i));
  return entries.filter((e) => kept.has(e.path)).map((e) => `${e.kind} ${e.path}`);
}

if (!conformanceDir) reportMissing(test, 'dockerignore conformance');
else {
  const cases = readJson<Cases>(join(conformanceDir, 'dockerignore', 'cases.json'));

  test('matches: MatchesOrParentMatches semantics', (t) => {
    for (const c of cases.matches) t.is(outcome(c.patterns, c.path), c.expected, `${JSON.stringify(c.patterns)} ${c.path}`);
    t.log(`matches: ${cases.matches.length}/${cases.matches.length}`);
  });

  test('legacyMatches: pattern syntax errors (the deprecated one-parent-level Matches is not implemented)', (t) => {
    const errors = cases.legacyMatches.filter((c) => c.expected === 'error');
    for (const c of errors) t.is(outcome(c.patterns, c.path), 'error', JSON.stringify(c.patterns));
    t.log(`legacyMatches: ${errors.length} error cases checked; ${cases.legacyMatches.length - errors.length} skipped: they test the deprecated Matches() that checks only one parent level, which nbuild does not use`);
  });

  test('pattern cleaning and ignore file parsing', (t) => {
    for (const c of cases.patternCleaning) {
      if (c.expected === 'error') t.is(outcome(c.patterns, c.path ?? 'x'), 'error', JSON.stringify(c.patterns));
      if (c.expectedPatternCount !== undefined) t.is(c.patterns.filter((p) => p.trim() !== '').length, c.expectedPatternCount);
      if (c.expectedHasExclusions !== undefined) t.is(new IgnoreMatcher(c.patterns).hasExceptions, c.expectedHasExclusions);
    }
    t.deepEqual(parseIgnoreFile(cases.ignorefileReadAll.input), cases.ignorefileReadAll.expected);
  });

  test('walk: what gets sent (exclude patterns)', (t) => {
    const excl = cases.walk.filter((c) => c.includePatterns === undefined);
    for (const c of excl) {
      const patterns = c.excludePatterns ?? [];
      if (c.expected === 'error') t.throws(() => new IgnoreMatcher(patterns));
      else if (c.expectedWalk) t.deepEqual(walk(c.tree, patterns), c.expectedWalk, JSON.stringify(patterns));
    }
    t.log(`walk: ${excl.length} exclude cases; ${cases.walk.length - excl.length} includePatterns cases skipped (fsutil include filters are not a .dockerignore feature)`);
  });
}

test('canSkipDirectory only when no exception can re-include below', (t) => {
  t.true(new IgnoreMatcher(['node_modules']).canSkipDirectory('node_modules'));
  t.false(new IgnoreMatcher(['foo*', '!foo/bar2']).canSkipDirectory('foo'));
  t.true(new IgnoreMatcher(['foo*', '!foo/bar2']).canSkipDirectory('foo2'));
  t.false(new IgnoreMatcher(['docs', '!**/*.md']).canSkipDirectory('docs'));
  t.false(new IgnoreMatcher(['docs']).canSkipDirectory('src'));
  t.is(cleanPath('./a//b/../c/'), 'a/c');
});

test('readIgnorePatterns prefers <Dockerfile>.dockerignore', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-ignore-'));
  await writeFile(join(dir, '.dockerignore'), 'foo\n');
  t.deepEqual(await readIgnorePatterns(dir, join(dir, 'Dockerfile')), ['foo']);
  await writeFile(join(dir, 'Dockerfile.dockerignore'), '\nbar\n');
  t.deepEqual(await readIgnorePatterns(dir, join(dir, 'Dockerfile')), ['bar']);
  t.deepEqual(await readIgnorePatterns(join(dir, 'none'), join(dir, 'none', 'Dockerfile')), []);
});

// The RegExp translation the matcher replaced (src/context/dockerignore.ts before glob.ts's
// automaton), kept as the oracle: it passed every conformance case above, but backtracked for
// seconds on hostile patterns.
function oracleRegExp(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = '^';
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (inClass && ch !== '\\') {
      re += ch;
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      re += ch;
      inClass = true;
    } else if (ch === '*' && chars[i + 1] === '*') {
      i++;
      if (chars[i + 1] === '/') i++;
      re += i + 1 >= chars.length ? '.*' : '(.*/)?';
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if ('.+(){}|^$'.includes(ch)) re += '\\' + ch;
    else if (ch === '\\') re += i + 1 < chars.length ? '\\' + chars[++i] : '\\\\';
    else re += ch;
  }
  // `u`: Go's regexp reads code points (`?` takes one emoji); the replaced RegExp read UTF-16 units.
  return new RegExp(re + '$', 'u');
}

function oracle(patterns: string[], path: string): boolean | 'error' {
  // MatchesOrParentMatches with the oracle's RegExps (the last matching pattern decides).
  try {
    const compiled = patterns.map((raw) => {
      const p = cleanPath(raw.trim());
      if (p === '!') throw new Error('illegal exclusion pattern');
      return p.startsWith('!') ? { ex: true, re: oracleRegExp(p.slice(1)) } : { ex: false, re: oracleRegExp(p) };
    });
    const parts = path.split('/');
    let matched = false;
    for (const c of compiled) {
      if (c.ex !== matched) continue;
      let m = c.re.test(path);
      for (let i = 1; i < parts.length && !m; i++) m = c.re.test(parts.slice(0, i).join('/'));
      if (m) matched = !c.ex;
    }
    return matched;
  } catch {
    return 'error';
  }
}

test('the automaton agrees with the RegExp translation it replaced on 20,000 random patterns and clean paths', (t) => {
  const rand = seededRandom(29);
  const pick = (s: string[]): string => s[Math.floor(rand() * s.length)];
  const patternParts = ['*', '**', '**/', '/**', '?', 'a', 'b', 'ab', '/', '.', '[ab]', '[^a]', '[a-c]', '\\*', '\\d', '\\w', '\\s', '\\.', '$', '😀', 'é', '+'];
  const pathParts = ['a', 'b', 'c', 'ab', '/', '/', '.', '1', '_', ' ', '\n', '*', '😀', 'é', '+', '$'];
  let compared = 0;
  for (let k = 0; k < 20_000; k++) {
    const pattern = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => pick(patternParts)).join('');
    // a clean relative path, as the context walker gives
    const path = cleanPath(Array.from({ length: 1 + Math.floor(rand() * 8) }, () => pick(pathParts)).join('')).replace(/^\//, '');
    if (path === '.' || path === '' || path.startsWith('..')) continue;
    const patterns = rand() < 0.2 ? [pattern, `!${pick(patternParts)}${pick(patternParts)}`] : [pattern];
    if (outcome(patterns, path) !== oracle(patterns, path)) {
      return t.fail(`patterns ${JSON.stringify(patterns)} path ${JSON.stringify(path)}: ${outcome(patterns, path)} != ${oracle(patterns, path)}`);
    }
    compared++;
  }
  t.true(compared > 15_000, `${compared} compared`);
});

test('hostile patterns that made the RegExp backtrack for seconds match in milliseconds', (t) => {
  const deep = 'x/'.repeat(40) + 'a'.repeat(60);
  const patterns = ['**/**/**/**/**/**/a*a*a*a*a*b', '*a*a*a*a*a*a*a*a*b', '**/**/**/**/**/**/**/**/**/**/y', '**/*a*/**/*a*/**/*a*/**/*a*b', `${'**/'.repeat(200)}z`];
  const started = Date.now();
  for (const p of patterns) {
    t.false(new IgnoreMatcher([p]).excludes(deep, false), p);
    t.false(new IgnoreMatcher([p]).excludes('a'.repeat(5000), false), p);
  }
  const ms = Date.now() - started;
  t.true(ms < 1000, `${ms} ms`); // the RegExp took ~10 s on the first pattern and a 50-character path
  // and they still match what they should
  t.true(new IgnoreMatcher(['**/**/**/a*a*a*b']).excludes('x/y/aXaYab', false));
  t.true(new IgnoreMatcher(['**/**/**/**/y']).excludes('a/b/c/d/e/y', false));
});
