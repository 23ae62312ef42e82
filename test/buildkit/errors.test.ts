// BuildKit's frontend/dockerfile/errors_test.go, ported (README.md).
//
// BuildKit attaches a source map to the error (the Dockerfile, its text and the ranges of the
// failing instruction), which buildx prints as the file's lines with the failing ones marked.
// nbuild's CLI says the same: its error line names `Dockerfile:LINE`, and the code frame under it
// marks every line of the failing instruction with `>`.
import test from 'ava';
import { bkBuildError } from './harness.js';

test('testErrorsSourceMap', async (t) => {
  const tcases: { name: string; dockerfile: string; errorLine: number[] }[] = [
    {
      name: 'invalidenv',
      dockerfile: `from alpine
env`,
      errorLine: [2],
    },
    {
      name: 'invalidsyntax',
      dockerfile: `#syntax=foobar
from alpine`,
      errorLine: [1],
    },
    {
      name: 'invalidrun',
      dockerfile: `from scratch
env foo=bar
run what`,
      errorLine: [3],
    },
    {
      name: 'invalidcopy',
      dockerfile: `from scratch
env foo=bar
copy foo bar
env bar=baz`,
      errorLine: [3],
    },
    {
      name: 'invalidflag',
      dockerfile: `from scratch
env foo=bar
copy --foo=bar / /
env bar=baz`,
      errorLine: [3],
    },
    {
      name: 'invalidcopyfrom',
      dockerfile: `from scratch
env foo=bar
copy --from=invalid foo bar
env bar=baz`,
      errorLine: [3],
    },
    {
      name: 'invalidmultiline',
      dockerfile: `from scratch
run wh\\
at
env bar=baz`,
      errorLine: [2, 3],
    },
  ];

  for (const tc of tcases) {
    const err = await bkBuildError({ dockerfile: tc.dockerfile });
    // One source, the Dockerfile, at the instruction's first line.
    const errorLine = err.split('\n').find((l) => l.startsWith('nbuild: ')) ?? '';
    t.true(errorLine.includes(`Dockerfile:${tc.errorLine[0]}: `), `${tc.name}: ${err}`);
    // The ranges: the lines the frame marks.
    const marked = err.split('\n').flatMap((l) => /^> +(\d+) \| /.exec(l)?.[1] ?? []).map(Number);
    t.deepEqual(marked, tc.errorLine, `${tc.name}: ${err}`);
  }
});
