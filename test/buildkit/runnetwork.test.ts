// BuildKit's frontend/dockerfile/dockerfile_runnetwork_test.go, ported (test/buildkit/README.md).
// nbuild runs rootless, so each test takes BuildKit's `sb.Rootless()` variant. `--network=host`
// needs no entitlement in nbuild: the tests take BuildKit's `network.host` granted branch.
import test from 'ava';
import * as net from 'node:net';
import { bkBuild } from './harness.js';

/** BuildKit's echoserver.NewTestServer: every connection gets `response`, then is closed. */
async function echoServer(response: string): Promise<{ port: number; close(): void }> {
  const server = net.createServer((c) => c.end(response));
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

test('testRunNoNetwork', async (t) => {
  // not rootless only: `RUN ip link show eth0` (rootless BuildKit has no bridge either)
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --network=none ! ip link show eth0
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testRunHostNetwork', async (t) => {
  const s = await echoServer('foo');
  t.teardown(() => s.close());
  // not rootless only: `RUN ! nc 127.0.0.1 PORT | grep foo`
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --network=host nc 127.0.0.1 ${s.port} | grep foo
`,
  });
  t.is(r.code, 0, r.stderr);
});

test('testRunGlobalNetwork', async (t) => {
  const s = await echoServer('foo');
  t.teardown(() => s.close());
  // BuildKit's frontend attribute force-network-mode=host is `--network host`.
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN nc 127.0.0.1 ${s.port} | grep foo
RUN --network=none ! nc -z 127.0.0.1 ${s.port}
`,
    args: ['--network', 'host'],
  });
  t.is(r.code, 0, r.stderr);
});
