// `--ssh` values as the CLI reads them: key files loaded into an agent for the build, and bad
// values as one line. What RUN --mount=type=ssh does with the agent: test/behaviour/ssh-mount.test.ts.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { startTestAgent, type TestAgent } from '../helpers/ssh-agent.js';

let root: string;
let agent: TestAgent;
test.before(async () => {
  [root, agent] = await Promise.all([storeWithBusybox(), startTestAgent()]);
});
test.after.always(() => agent?.stop());

const uniq = () => Math.random().toString(36).slice(2, 10);

async function build(dockerfile: string, args: string[], env: NodeJS.ProcessEnv = {}, store = root) {
  const ctx = tempDir('ssh-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile });
  const out = path.join(tempDir('ssh-out'), 'fs');
  const r = await nbuild(['--root', store, 'build', '--progress', 'plain', '-o', out, ...args, ctx], { env: { SSH_AUTH_SOCK: agent.socket, ...env } });
  return { ...r, out };
}

test('--ssh with key files loads them into an agent for the build; bad values are one line', async (t) => {
  const r = await build(`FROM busybox:latest\nRUN --mount=type=ssh,id=k echo ${uniq()}; test -S /run/buildkit/ssh_agent.0 && echo ok > /o\n`, ['--ssh', `k=${agent.key}`], { SSH_AUTH_SOCK: '' });
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(r.out, 'o'), 'utf8'), 'ok\n');
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--ssh', 'default'], { SSH_AUTH_SOCK: '' }, /^nbuild: --ssh default: SSH_AUTH_SOCK is not set/],
    [['--ssh', 'x=/nonexistent/agent.sock'], {}, /^nbuild: --ssh x=\/nonexistent\/agent\.sock: \/nonexistent\/agent\.sock: no such file or socket\n$/],
    [['--ssh', `x=${agent.socket},${agent.key}`], {}, /one agent socket, or key files, not both/],
    [['--ssh', 'default', '--ssh', 'default'], {}, /id default is given twice/],
  ];
  for (const [args, env, want] of cases) {
    const bad = await build('FROM busybox:latest\n', args, env);
    t.is(bad.code, 2, bad.stderr);
    t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    t.regex(bad.stderr, want);
  }
  // A key with a passphrase cannot be loaded without a terminal: one line, no agent left behind.
  const locked = path.join(tempDir('ssh-locked'), 'key');
  fs.copyFileSync(agent.key, locked);
  fs.chmodSync(locked, 0o600);
  const { execFileSync } = await import('node:child_process');
  execFileSync('ssh-keygen', ['-q', '-p', '-N', 'secret-pass', '-f', locked]);
  const failed = await build('FROM busybox:latest\n', ['--ssh', `default=${locked}`]);
  t.is(failed.code, 1, failed.stderr);
  t.is(failed.stderr.trim().split('\n').length, 1, failed.stderr);
  t.regex(failed.stderr, /--ssh default: ssh-add could not load/);
});
