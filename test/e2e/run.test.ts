// End to end, as an unprivileged user: `nbuild run` runs one command in an image like RUN does,
// with Docker's rules for Entrypoint/Cmd, Env, User and WorkingDir, and passes the exit code on.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { parseRunArgv } from '../../src/cli/commands/run.js';
import { containerArgs, containerEnv } from '../../src/run-image.js';

let root: string;

test.before(async () => {
  root = await storeWithBusybox();
  const ctx = tempDir('run-ctx');
  writeFiles(ctx, {
    Dockerfile: [
      'FROM busybox:latest',
      'ENV GREETING="hello from env" APP_MODE=prod',
      'WORKDIR /srv/app',
      'RUN echo data > data.txt',
      'USER user',
      'ENTRYPOINT ["/bin/sh", "-c", "echo \\"$GREETING\\" in $(pwd) as $(id -u): \\"$0\\" \\"$@\\""]',
      'CMD ["default-arg"]',
      '',
    ].join('\n'),
  });
  const r = await nbuild(['--root', root, 'build', '--progress', 'quiet', '-t', 'app:1', ctx]);
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
});

const run = (args: string[], input?: string) => nbuild(['--root', root, 'run', ...args], { input });

test('passes the exit code of the command through', async (t) => {
  for (const code of [0, 1, 3, 42]) {
    const r = await run(['--rm', 'busybox:latest', 'sh', '-c', `exit ${code}`]);
    t.is(r.code, code, r.stderr);
  }
  const killed = await run(['busybox:latest', 'sh', '-c', 'kill -9 $$']);
  t.is(killed.code, 128 + 9, 'killed by SIGKILL: 137 as Docker reports it');
  const missing = await run(['busybox:latest', 'no-such-command']);
  t.is(missing.code, 127);
});

test('the image Env, WorkingDir, User, Entrypoint and Cmd as Docker combines them', async (t) => {
  const r = await run(['app:1']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'hello from env in /srv/app as 1000: default-arg\n');
  const args = await run(['app:1', 'x', 'y']);
  t.is(args.stdout, 'hello from env in /srv/app as 1000: x y\n', 'CMD arguments replace Cmd, the Entrypoint stays');
});

test('-e, --user, --workdir and --entrypoint override the image', async (t) => {
  const r = await run(['-e', 'GREETING=overridden', '--env=EXTRA=1', '-u', '0', '-w', '/tmp', '--entrypoint', 'sh', 'app:1', '-c', 'echo "$GREETING $APP_MODE $EXTRA $(pwd) $(id -u) $HOME"; cat /srv/app/data.txt']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'overridden prod 1 /tmp 0 /root\ndata\n');
  const user = await run(['--user', 'user', 'busybox:latest', 'id']);
  t.regex(user.stdout, /^uid=1000\(user\) gid=1000\(user\) groups=.*33\(www-data\)/);
});

test('the command runs isolated: own PID namespace, hostname, no changes kept', async (t) => {
  const r = await run(['busybox:latest', 'sh', '-c', 'echo $$; touch /created-by-run; ls /proc | grep -c "^[0-9]"']);
  t.is(r.code, 0, r.stderr);
  const [pid, count] = r.stdout.trim().split('\n').map(Number);
  t.is(pid, 2, 'the command is the first child of the sandbox init');
  t.true(count <= 4, r.stdout);
  const again = await run(['busybox:latest', 'sh', '-c', 'test -e /created-by-run && echo kept || echo discarded']);
  t.is(again.stdout, 'discarded\n');
  // A store of its own: the other tests of this file run at the same time in the shared one.
  const own = await storeWithBusybox();
  const once = await nbuild(['--root', own, 'run', 'busybox:latest', 'touch', '/x']);
  t.is(once.code, 0, once.stderr);
  const left = fs.readdirSync(path.join(own, 'tmp')).filter((n) => !n.startsWith('session-'));
  t.deepEqual(left, [], 'the container dir was removed');
});

test('stdin is closed unless -i', async (t) => {
  const closed = await run(['busybox:latest', 'cat'], 'piped\n');
  t.is(closed.code, 0, closed.stderr);
  t.is(closed.stdout, '');
  const open = await run(['-i', 'busybox:latest', 'sh', '-c', 'tr a-z A-Z'], 'piped\n');
  t.is(open.code, 0, open.stderr);
  t.is(open.stdout, 'PIPED\n');
});

test('--network none leaves only the loopback', async (t) => {
  const r = await run(['--network', 'none', 'busybox:latest', 'sh', '-c', 'ls /sys/class/net']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), 'lo');
});

test('errors of nbuild itself exit 125 with one line; bad usage exits 2', async (t) => {
  const r = await run(['no-such-image:1', 'true']);
  t.is(r.code, 125);
  t.is(r.stderr.trim(), 'nbuild: no such image: no-such-image:1 (see nbuild images)');
  const usage = await run(['--network', 'bridge', 'busybox:latest']);
  t.is(usage.code, 2);
  const noImage = await run([]);
  t.is(noImage.code, 2);
  const help = await run(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /thrown away/);
});

test('argument parsing: options before IMAGE, the command untouched after it', (t) => {
  const a = parseRunArgv(['--rm', '-e', 'A=1', '--env=B=2', '-i', '--user', 'u:g', '-w', '/x', '--network=none', 'img', 'sh', '-c', 'x', '-e', '--rm']);
  t.deepEqual(
    { ...a },
    { image: 'img', command: ['sh', '-c', 'x', '-e', '--rm'], rm: true, interactive: true, env: ['A=1', 'B=2'], user: 'u:g', workdir: '/x', network: 'none', help: false },
  );
  t.deepEqual(parseRunArgv(['--', '-img-']).image, '-img-');
  t.throws(() => parseRunArgv(['--bogus', 'img']), { message: /unknown option --bogus/ });
  t.throws(() => parseRunArgv(['-e']), { message: /-e needs a value/ });
});

test('Entrypoint/Cmd and Env rules', (t) => {
  t.deepEqual(containerArgs({ Entrypoint: ['ep'], Cmd: ['c'] }, undefined, undefined), ['ep', 'c']);
  t.deepEqual(containerArgs({ Entrypoint: ['ep'], Cmd: ['c'] }, ['x'], undefined), ['ep', 'x']);
  t.deepEqual(containerArgs({ Entrypoint: ['ep'], Cmd: ['c'] }, [], 'new'), ['new']);
  t.deepEqual(containerArgs({ Entrypoint: ['ep'], Cmd: ['c'] }, ['x'], ''), ['x']);
  t.deepEqual(containerArgs({ Cmd: null }, undefined, undefined), []);
  const env = containerEnv({ Env: ['PATH=/bin', 'A=1'] }, ['A=2', 'FROM_CALLER', 'ABSENT'], '/home/u', { FROM_CALLER: 'yes' });
  t.deepEqual(env, ['PATH=/bin', 'A=2', 'FROM_CALLER=yes', 'HOME=/home/u']);
  t.throws(() => containerEnv({}, ['=x'], '/'), { message: /bad environment entry/ });
});
