// BuildKit's frontend/dockerfile/dockerfile_ssh_test.go, ported (test/buildkit/README.md).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { bkBuild } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

test('testSSHSocketParams', async (t) => {
  // BuildKit's test forwards a fresh RSA key file (an in-process agent); nbuild loads it into the host's ssh-agent.
  const key = path.join(tempDir('bk-ssh'), 'key');
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', key]);
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --mount=type=ssh,mode=741,uid=100,gid=102 [ "$(stat -c "%u %g %f" $SSH_AUTH_SOCK)" = "100 102 c1e1" ]
`,
    args: ['--ssh', `default=${key}`],
  });
  t.is(r.code, 0, r.stderr);
});
