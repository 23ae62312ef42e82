// The RUN sandbox against a hostile Dockerfile, end to end as the unprivileged user (issue 13,
// rows 5 and 6, Deliver 2 and 6): no descriptor of the caller or of the helper reaches the step,
// Docker's capability sets and no_new_privs, `--security=insecure` refused, USER's groups as
// BuildKit has them, and the step's own network namespace.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import * as path from 'node:path';
import { nbuild, projectRoot, storeWithBusybox, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';
import { DEBIAN_IMAGE } from '../helpers/debian-image.js';

let root: string;

test.before(async () => {
  root = await storeWithBusybox();
});

function context(prefix: string, dockerfile: string): string {
  const ctx = tempDir(prefix);
  writeFiles(ctx, { Dockerfile: dockerfile });
  return ctx;
}

function build(ctx: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return nbuild(['--root', root, 'build', '--no-cache', '--progress', 'plain', ...extra, ctx], { env });
}

/** `KEY=VALUE` lines a RUN printed (plain progress prefixes them with `#N `). */
function printed(r: RunResult, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (r.stdout + r.stderr).matchAll(new RegExp(`^#\\d+ ${prefix}([A-Za-z0-9_-]+)=(.*)$`, 'gm'))) out[m[1]] = m[2];
  return out;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Runs nbuild with `fd` open as descriptor `at` (as `exec 17>>file; nbuild build …` leaves it). */
function nbuildWithFd(args: string[], fd: number, at: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
    while (stdio.length < at) stdio.push('ignore');
    stdio.push(fd);
    const child = spawn(path.join(projectRoot, 'bin', 'nbuild'), args, { stdio, cwd: projectRoot });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

test('a descriptor the caller left open and the helper result channel are not open in RUN', async (t) => {
  const hostDir = tempDir('victim');
  const victim = path.join(hostDir, 'host-file.txt');
  fs.writeFileSync(victim, 'precious\n');
  const before = sha256(victim);
  const ctx = context(
    'fds',
    [
      'FROM busybox:latest',
      // What the command starts with: ls, exec'd directly, opens one descriptor itself (the
      // directory it reads, the lowest free number), so it lists 0 1 2 3 and nothing else.
      'RUN ["/bin/ls", "-1", "/proc/self/fd"]',
      'RUN for p in /proc/self/fd/17 /dev/fd/17 /proc/1/fd/17; do (echo PWNED > $p) 2>/dev/null; done; (echo PWNED >&17) 2>/dev/null; (echo PWNED >&3) 2>/dev/null; true',
      // A step that fails and tries to report success on the helper's channel.
      `RUN (printf '{"type":"exit","exitCode":0}\\n' >&3) 2>/dev/null; (printf '{"type":"exit","exitCode":0}\\n' > /proc/1/fd/3) 2>/dev/null; exit 7`,
      '',
    ].join('\n'),
  );
  const fd = fs.openSync(victim, 'a');
  let r: RunResult;
  try {
    r = await nbuildWithFd(['--root', root, 'build', '--no-cache', '--progress', 'plain', ctx], fd, 17);
  } finally {
    fs.closeSync(fd);
  }
  t.is(sha256(victim), before, 'the host file is unchanged');
  t.is(fs.readFileSync(victim, 'utf8'), 'precious\n');
  const listed = [...(r.stdout + r.stderr).matchAll(/^#1 (\d+)$/gm)].map((m) => m[1]);
  t.deepEqual(listed, ['0', '1', '2', '3'], 'only stdin, stdout and stderr are open in RUN');
  t.not(r.code, 0, 'the failing step is not reported as a success');
  t.regex(r.stderr, /Dockerfile:4: RUN .*exit code: 7/);
});

const DOCKER_CAPS = '00000000a80425fb';
const CAP_PROBE = `RUN grep -E '^(Cap[A-Za-z]+|NoNewPrivs):' /proc/self/status | tr -d ' \\t' | sed -e 's/^/status-/' -e 's/:/=/'`;

test("RUN has Docker's capability sets and no_new_privs, as root and as a user", async (t) => {
  const ctx = context(
    'caps',
    [
      'FROM busybox:latest',
      CAP_PROBE.replace('status-', 'root-'),
      // BuildKit's own assertion (testRunSecurityDefault, testRunSecuritySandbox).
      'RUN [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]',
      'RUN --security=sandbox [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]',
      'USER 1000',
      CAP_PROBE.replace('status-', 'user-'),
      '',
    ].join('\n'),
  );
  const r = await build(ctx);
  t.is(r.code, 0, r.stderr);
  // Docker and BuildKit (containerd's default spec): no inheritable or ambient capabilities
  // (CVE-2022-24769); root's permitted and effective sets are the bounding set.
  t.deepEqual(printed(r, 'root-'), {
    CapInh: '0000000000000000',
    CapPrm: DOCKER_CAPS,
    CapEff: DOCKER_CAPS,
    CapBnd: DOCKER_CAPS,
    CapAmb: '0000000000000000',
    NoNewPrivs: '1',
  });
  // A non-root USER keeps the bounding set and, like after any execve as non-root, nothing else.
  t.deepEqual(printed(r, 'user-'), {
    CapInh: '0000000000000000',
    CapPrm: '0000000000000000',
    CapEff: '0000000000000000',
    CapBnd: DOCKER_CAPS,
    CapAmb: '0000000000000000',
    NoNewPrivs: '1',
  });
});

test('a RUN command starts with no signal ignored or blocked, as under runc (glibc internal signals too)', async (t) => {
  // Exec form: a shell may ignore SIGQUIT itself (busybox ash does). The helper is started with
  // posix_spawn, whose glibc gives its internal signals (32, 33) SIG_IGN unless told otherwise.
  const ctx = context('signals', ['FROM busybox:latest', 'RUN ["sed", "-e", "/^Sig[IB]/!d;s/^/signals-/;s/:[[:space:]]*/=/", "/proc/self/status"]', ''].join('\n'));
  const r = await build(ctx);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(printed(r, 'signals-'), { SigIgn: '0000000000000000', SigBlk: '0000000000000000' });
});

test('RUN --security=insecure is refused before any step runs, naming the line', async (t) => {
  const ctx = context('insecure', ['FROM busybox:latest', 'RUN echo first-step-ran', 'RUN --security=insecure cat /proc/self/status', ''].join('\n'));
  const r = await build(ctx);
  t.not(r.code, 0);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('nbuild:') || /Dockerfile:\d+/.test(l));
  t.regex(r.stderr, /Dockerfile:3: RUN --security=insecure: .*security\.insecure is not allowed/);
  t.true(errors.length >= 1, r.stderr);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.notRegex(r.stdout + r.stderr, /^#\d+ first-step-ran$/m, 'refused before anything ran');
});

test("USER's supplementary groups start with the primary group (BuildKit's testUserAdditionalGids)", async (t) => {
  const ctx = context(
    'groups',
    [
      'FROM busybox:latest',
      'RUN echo id-default="$(id)"',
      'USER user',
      'RUN echo id-user="$(id)"',
      'USER 1234',
      'RUN echo id-1234="$(id)"',
      'USER 1234:1234',
      'RUN echo id-1234-1234="$(id)"',
      'USER daemon',
      'RUN echo id-daemon="$(id)"',
      'USER user:staff',
      'RUN echo id-user-staff="$(id)"',
      '',
    ].join('\n'),
  );
  const r = await build(ctx);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(printed(r, 'id-'), {
    default: 'uid=0(root) gid=0(root) groups=0(root)',
    // The kernel keeps the list sorted.
    user: 'uid=1000(user) gid=1000(user) groups=33(www-data),50(staff),1000(user)',
    '1234': 'uid=1234 gid=0(root) groups=0(root)',
    '1234-1234': 'uid=1234 gid=1234 groups=1234',
    daemon: 'uid=1(daemon) gid=1(daemon) groups=1(daemon)',
    'user-staff': 'uid=1000(user) gid=50(staff) groups=50(staff)',
  });
});

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end('reached\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Whether this user can open /dev/net/tun, which slirp4netns needs (CI opens it, .ci/run). */
function tunUsable(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/net/tun', 'r+'));
    return true;
  } catch {
    return false;
  }
}

const NET_PROBE = (port: number): string =>
  [
    `RUN echo net-loopback=$(nc -w 3 127.0.0.1 ${port} </dev/null || echo unreachable)`,
    `; echo net-gateway=$(nc -w 3 10.0.2.2 ${port} </dev/null 2>/dev/null || echo unreachable)`,
    '; echo net-links=$(ls /sys/class/net | tr "\\n" " ")',
    '; echo net-route=$(ip route 2>/dev/null | grep ^default | cut -d" " -f1-3)',
    '; echo net-ping-gateway=$(ping -c 1 -W 3 10.0.2.2 >/dev/null 2>&1 && echo yes || echo no)',
  ].join('');

test('RUN gets its own network: the host loopback is out of reach; --network host reaches it; none has lo only', async (t) => {
  const { server, port } = await listen();
  try {
    const ctx = context('net', `FROM busybox:latest\n${NET_PROBE(port)}\n`);
    const isolated = await build(ctx);
    t.is(isolated.code, 0, isolated.stderr);
    const got = printed(isolated, 'net-');
    if (tunUsable()) {
      t.notRegex(isolated.stderr, /host network/, 'no fallback notice');
      t.is(got.loopback, 'unreachable', "the host's 127.0.0.1 is not the step's");
      t.is(got.gateway, 'unreachable', "slirp4netns does not expose the host's loopback on the gateway");
      t.is(got.links, 'lo tap0');
      t.is(got.route, 'default via 10.0.2.2');
      t.is(got['ping-gateway'], 'yes', 'the step reaches the outside router');
    } else {
      t.log('/dev/net/tun is not open to this user: checking the fallback notice');
      t.is(got.loopback, 'reached');
      t.regex(isolated.stderr, /WARNING: RUN steps use the host network.*\/dev\/net\/tun/);
    }
    const host = await build(ctx, ['--network', 'host']);
    t.is(host.code, 0, host.stderr);
    t.is(printed(host, 'net-').loopback, 'reached');
    t.notRegex(host.stderr, /WARNING: RUN steps use the host network/, 'asked for: no notice');
    const none = await build(ctx, ['--network', 'none']);
    t.is(none.code, 0, none.stderr);
    t.is(printed(none, 'net-').loopback, 'unreachable');
    t.is(printed(none, 'net-').links, 'lo');
    const step = await build(context('net-step', `FROM busybox:latest\n${NET_PROBE(port).replace('RUN ', 'RUN --network=host ')}\n`));
    t.is(printed(step, 'net-').loopback, 'reached', 'RUN --network=host');
  } finally {
    server.close();
  }
});

test('without slirp4netns or pasta RUN falls back to the host network and says so once, with the fix', async (t) => {
  // A PATH with node and the id-map tools only: no slirp4netns, no pasta.
  const bin = tempDir('path');
  for (const tool of ['node', 'newuidmap', 'newgidmap']) {
    const found = (process.env['PATH'] ?? '').split(':').map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (found) fs.symlinkSync(found, path.join(bin, tool));
  }
  const ctx = context('net-fallback', 'FROM busybox:latest\nRUN echo one\nRUN echo two\n');
  const r = await build(ctx, [], { PATH: bin });
  t.is(r.code, 0, r.stderr);
  const notices = r.stderr.split('\n').filter((l) => l.includes('RUN steps use the host network'));
  t.is(notices.length, 1, r.stderr);
  t.regex(notices[0], /slirp4netns/);
  t.regex(notices[0], /apt-get install slirp4netns/);
  const info = await nbuild(['info'], { env: { PATH: bin } });
  t.is(info.code, 0, info.stderr);
  t.regex(info.stdout, /RUN network: host \(fallback: .*slirp4netns/);
});

// Docker's default seccomp profile refuses a RUN without CAP_SYS_ADMIN every new namespace
// (unshare, clone with CLONE_NEW*), setns and the mount calls. Before nbuild's filter, `unshare -U
// -r` in a step made a nested user namespace whose root holds every capability: mounts, overlay,
// netfilter, the kernel surface escapes go through.
const NS_PROBE = [
  'RUN for c in "-U -r" "-U" "-m" "-n" "-p -f" "-i" "-u" "-C" "-U -r -m"; do',
  '  unshare $c sh -c "mkdir -p /mnt && mount -t tmpfs t /mnt && echo pwn > /mnt/x; exit 0" 2>/dev/null; echo "ns-unshare$(printf %s "$c" | tr -d " -")=$?"; done;',
  '  mount -t tmpfs t /tmp 2>/dev/null; echo "ns-mount=$?"; echo "ns-forked=$(echo child | cat)"',
].join(' \\\n');

test('RUN cannot make a nested user namespace or any other namespace, as under docker build (seccomp)', async (t) => {
  const victim = path.join(tempDir('ns-victim'), 'host-file.txt');
  fs.writeFileSync(victim, 'precious\n');
  const before = sha256(victim);
  const refused = { unshareUr: '1', unshareU: '1', unsharem: '1', unsharen: '1', unsharepf: '1', unsharei: '1', unshareu: '1', unshareC: '1', unshareUrm: '1', mount: '1', forked: 'child' };
  const r = await build(context('nested-userns', ['FROM busybox:latest', NS_PROBE, 'USER 1000', NS_PROBE, ''].join('\n')));
  t.is(r.code, 0, r.stderr);
  t.is(sha256(victim), before);
  const root = printed(r, 'ns-');
  t.deepEqual(root, refused, 'root of the step: every unshare refused (EPERM), fork still works');
  t.notRegex(r.stdout + r.stderr, /^#\d+ uid=0\(root\)/m);
  // The refusal is EPERM, as Docker's profile answers.
  const msg = await build(context('nested-userns-msg', 'FROM busybox:latest\nRUN unshare -U -r id\n'));
  t.not(msg.code, 0);
  t.regex(msg.stdout + msg.stderr, /unshare\(0x10000000\): Operation not permitted/);
});

test('RUN keeps threads and fork under the seccomp filter (clone3 is ENOSYS, glibc falls back to clone)', async (t) => {
  const debian = DEBIAN_IMAGE;
  if (!fs.existsSync(debian)) return t.fail(`no Debian base image at ${debian} (scripts/make-debian-image.sh)`);
  t.timeout(5 * 60 * 1000);
  const store = tempDir('seccomp-store');
  const load = await nbuild(['--root', store, 'load', '-i', debian, '-t', 'debian:bookworm']);
  t.is(load.code, 0, load.stderr);
  // sort --parallel sorts with POSIX threads (pthread_create: clone3, then clone on ENOSYS);
  // util-linux's unshare is refused like busybox's.
  const ctx = context('seccomp-threads', [
    'FROM debian:bookworm',
    'RUN seq 400000 | sort --parallel=4 -S 64M -n -r | head -1 && (unshare -U -r true; echo "ns-debianunshare=$?")',
    '',
  ].join('\n'));
  const r = await nbuild(['--root', store, 'build', '--no-cache', '--progress', 'plain', ctx]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout + r.stderr, /^#\d+ 400000$/m);
  t.deepEqual(printed(r, 'ns-'), { debianunshare: '1' });
});
