// COPY source wildcards: Go's filepath.Match for one segment, matched without backtracking.
import test from 'ava';
import { hasWildcard, segmentMatcher, unescapeSegment } from '../../src/context/glob.js';

// Go's path/filepath match_test.go table (the one-segment rows).
const GO_CASES: [string, string, boolean | 'bad'][] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
  ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'], ['[x-]', 'x', 'bad'], ['[-x]', 'x', 'bad'], ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'], ['[', 'a', 'bad'], ['[^', 'a', 'bad'], ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'],
  ['*x', 'xxx', true], ['n\\?pe', 'n?pe', true], ['n\\?pe', 'nope', false], ['st\\*uv', 'strauv', false],
  ['[[]xyz]', '[xyz]', true],
];

for (const [pattern, name, want] of GO_CASES) {
  test(`Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)}) is ${want}`, (t) => {
    if (want === 'bad') t.throws(() => segmentMatcher(pattern).test(name), { message: /syntax error in pattern/ });
    else t.is(segmentMatcher(pattern).test(name), want);
  });
}

test('an escaped wildcard is no wildcard; unescaping gives the name, a trailing lone \\ none', (t) => {
  t.false(hasWildcard('n\\?pe'));
  t.true(hasWildcard('n\\\\?pe'));
  t.is(unescapeSegment('n\\?pe'), 'n?pe');
  t.is(unescapeSegment('a\\\\'), 'a\\');
  t.is(unescapeSegment('a\\'), undefined);
});

test('a hostile 2,000-character pattern matches in well under a second', (t) => {
  const pattern = '*a'.repeat(1000);
  const name = 'a'.repeat(255);
  const started = process.hrtime.bigint();
  t.false(segmentMatcher(pattern + 'b').test(name));
  t.false(segmentMatcher('*a'.repeat(100) + 'b').test(name));
  t.true(segmentMatcher('*a'.repeat(100)).test(name));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.true(ms < 250, `took ${ms} ms`);
});
