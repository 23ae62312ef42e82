// BuildKit's frontend/dockerfile/dockerfile_runsecurity_test.go, ported (test/buildkit/README.md).
// nbuild has no entitlements to grant: it behaves as a BuildKit daemon that denies
// `security.insecure`. BuildKit's tests ask for that entitlement in every solve; its denied
// branch is then a refusal of the request itself, whatever the Dockerfile says, which nbuild
// (no request) has no analog of. So each test below takes the branch that is about the
// Dockerfile: `--security=insecure` is refused (denied branch), a RUN without it runs with
// Docker's default capability set (the branch where the request is granted).
import test from 'ava';
import { bkBuild } from './harness.js';

test('testRunSecurityInsecure', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --security=insecure [ "$(printf '%x' $(( $(cat /proc/self/status | grep CapBnd | cut -f 2 | sed s#^#0x#) & 0x3fffffffff)))" == "3fffffffff" ]
RUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:	00000000a80425fb" ]
`,
  });
  // securityInsecureDenied
  t.not(r.code, 0);
  t.true(r.stderr.includes('entitlement security.insecure is not allowed'), r.stderr);
});

test('testRunSecuritySandbox', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --security=sandbox [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:	00000000a80425fb" ]
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testRunSecurityDefault', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:	00000000a80425fb" ]
`,
  });
  // securityInsecureGranted
  t.is(r.code, 0, r.stderr);
});
