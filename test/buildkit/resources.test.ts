// BuildKit's frontend/dockerfile/dockerfile_resources_test.go, ported (test/buildkit/README.md).
import test from 'ava';
import { bkBuildLocal, readText } from './harness.js';

// BuildKit's frontend attribute shm-size=134217728 is `--shm-size 134217728`.
test('testShmSize', async (t) => {
  const dest = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
RUN mount | grep /dev/shm > /shmsize
FROM scratch
COPY --from=base /shmsize /
`,
    args: ['--shm-size', '134217728'],
  });
  t.true(readText(dest, 'shmsize').includes('size=131072k'), readText(dest, 'shmsize'));
});

// BuildKit's frontend attribute ulimit=nofile=1062:1062 is `--ulimit nofile=1062:1062`.
test('testUlimit', async (t) => {
  const dest = await bkBuildLocal({
    dockerfile: `
FROM busybox AS base
RUN ulimit -n > /ulimit
FROM scratch
COPY --from=base /ulimit /
`,
    args: ['--ulimit', 'nofile=1062:1062'],
  });
  t.is(readText(dest, 'ulimit').trim(), '1062');
});
