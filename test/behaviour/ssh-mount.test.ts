// `--ssh` and `RUN --mount=type=ssh`, through build(): the agent is reachable from inside RUN
// through one socket, owned and moded as the mount asks; nothing of it stays in the image; a RUN
// without the mount sees nothing; a missing agent is an error naming the line. The --ssh values
// as the CLI reads them (key files, bad values): test/e2e/ssh-mount.test.ts.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadImages } from '../../src/index.js';
import { apiBuild } from '../helpers/api-build.js';
import { apiStoreWithBusybox } from '../helpers/api-store.js';
import { DEBIAN_IMAGE } from '../helpers/debian-image.js';
import { tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { startTestAgent, type TestAgent } from '../helpers/ssh-agent.js';

let root: string;
let agent: TestAgent;
test.before(async () => {
  [root, agent] = await Promise.all([apiStoreWithBusybox(), startTestAgent()]);
});
test.after.always(() => agent?.stop());

const uniq = () => Math.random().toString(36).slice(2, 10);

async function build(dockerfile: string, args: string[], env: NodeJS.ProcessEnv = {}, store = root) {
  const ctx = tempDir('ssh-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile });
  const out = path.join(tempDir('ssh-out'), 'fs');
  const r = await apiBuild(store, ctx, ['-o', out, ...args], { sshEnv: { SSH_AUTH_SOCK: agent.socket, ...env } });
  return { ...r, out };
}

test('--ssh default: RUN --mount=type=ssh gets a socket at /run/buildkit/ssh_agent.0 and SSH_AUTH_SOCK; the next RUN sees nothing', async (t) => {
  const r = await build(
    `FROM busybox:latest
RUN --mount=type=ssh echo ${uniq()}; test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK $(stat -c '%u %g %a' "$SSH_AUTH_SOCK")" > /seen
RUN { test -e /run/buildkit/ssh_agent.0 && echo socket; echo "[$SSH_AUTH_SOCK]"; test -e ${agent.dir} && echo agentdir; ls ${agent.dir}; true; } > /after 2>&1
`,
    ['--ssh', 'default'],
  );
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(r.out, 'seen'), 'utf8'), '/run/buildkit/ssh_agent.0 0 0 600\n');
  t.regex(fs.readFileSync(path.join(r.out, 'after'), 'utf8'), /^\[\]\nls: .*No such file or directory\n$/);
  t.false(fs.existsSync(path.join(r.out, 'run', 'buildkit')), 'the mount point is not in the image');
});

test('the agent protocol answers from inside RUN (Debian, perl): REQUEST_IDENTITIES lists the forwarded key', async (t) => {
  const debian = DEBIAN_IMAGE;
  if (!fs.existsSync(debian)) return t.fail(`no Debian base image at ${debian} (scripts/make-debian-image.sh)`);
  t.timeout(5 * 60 * 1000);
  const store = tempDir('ssh-store');
  await loadImages({ storeRoot: store, input: debian, tag: 'debian:bookworm' });
  // SSH2_AGENTC_REQUEST_IDENTITIES (11) → SSH2_AGENT_IDENTITIES_ANSWER (12), a count, then key blobs and comments.
  const perl = `use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die "connect: $!"; print $s pack("NC", 1, 11); read($s, my $h, 4) == 4 or die "short"; my $n = unpack("N", $h); read($s, my $b, $n) == $n or die "short body"; my ($type, $count) = unpack("CN", $b); print "type=$type count=$count\\n"; print "comment-found\\n" if index($b, $ARGV[0]) >= 0;`;
  const r = await build(
    `FROM debian:bookworm
RUN --mount=type=ssh,id=work,target=/tmp/agent.sock,uid=1000,mode=0600 echo ${uniq()}; setpriv --reuid=1000 --regid=1000 --clear-groups perl -e '${perl}' ${agent.comment} > /reply
`,
    ['--ssh', `work=${agent.socket}`],
    { SSH_AUTH_SOCK: '' },
    store,
  );
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(r.out, 'reply'), 'utf8'), 'type=12 count=1\ncomment-found\n');
});

test('required=true without --ssh is an error naming the line; optional is skipped', async (t) => {
  const required = await build('FROM busybox:latest\nRUN true\nRUN --mount=type=ssh,required=true true\n', []);
  t.is(required.code, 1);
  t.regex(required.stderr, /Dockerfile:3: RUN --mount=type=ssh: no SSH agent "default" was given \(forward one with --ssh default\)/);
  const named = await build('FROM busybox:latest\nRUN --mount=type=ssh,id=deploy,required true\n', ['--ssh', 'default']);
  t.is(named.code, 1);
  t.regex(named.stderr, /Dockerfile:2: RUN --mount=type=ssh: no SSH agent "deploy" was given \(forward one with --ssh deploy=SOCKET\)/);
  // A relative target is under WORKDIR, and so is SSH_AUTH_SOCK; ENV SSH_AUTH_SOCK is kept.
  const relative = await build(`FROM busybox:latest\nWORKDIR /w\nRUN --mount=type=ssh,target=agent.sock echo ${uniq()}; test -S /w/agent.sock && echo "$SSH_AUTH_SOCK" > /o\nENV SSH_AUTH_SOCK=/mine\nRUN --mount=type=ssh echo "$SSH_AUTH_SOCK" >> /o\n`, ['--ssh', 'default']);
  t.is(relative.code, 0, relative.stderr);
  t.is(fs.readFileSync(path.join(relative.out, 'o'), 'utf8'), '/w/agent.sock\n/mine\n');
  const optional = await build(`FROM busybox:latest\nRUN --mount=type=ssh echo ${uniq()}; test -e /run/buildkit/ssh_agent.0 || echo "absent $SSH_AUTH_SOCK" > /o\n`, []);
  t.is(optional.code, 0, optional.stderr);
  t.is(fs.readFileSync(path.join(optional.out, 'o'), 'utf8'), 'absent /run/buildkit/ssh_agent.0\n');
});
