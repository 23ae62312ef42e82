// BuildKit's frontend/dockerfile/dockerfile_platform_test.go, ported (README.md).
import test from 'ava';
import { bkBuildLocal, readText } from './harness.js';

test('testPlatformArgsImplicit', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM scratch AS build-linux
COPY foo bar
FROM build-\${TARGETOS}
COPY foo2 bar2
`,
    files: { foo: { content: 'd0', mode: 0o600 }, foo2: { content: 'd1', mode: 0o600 } },
  });
  t.is(readText(out, 'bar'), 'd0');
  t.is(readText(out, 'bar2'), 'd1');
});
