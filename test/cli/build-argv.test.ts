// readBuildArgv (src/cli/build-options.ts) reads a build's usual command line from the option
// table without yargs. Each line it reads must give the handler what yargs gives it; each line it
// declines goes to yargs. The yargs side is main()'s own parser (cliParser) with the real build
// command's options and a handler that only records its argv.
import test from 'ava';
import { BUILD_OPTIONS, normalizeBuildArgv, readBuildArgv } from '../../src/cli/build-options.js';
import { cliParser } from '../../src/cli/main.js';
import { buildCommand } from '../../src/cli/commands/build.js';
import { commandNames } from '../../src/cli/commands.js';
import { nbuild, tempDir } from '../helpers/nbuild-cli.js';

async function yargsArgv(argv: string[]): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | undefined;
  const parser = await cliParser(argv, false);
  parser.command({ ...buildCommand, handler: (a: Record<string, unknown>) => void (seen = a) } as never);
  await parser.parseAsync();
  if (!seen) throw new Error(`yargs ran no handler for ${argv.join(' ')}`);
  return seen;
}

/** The keys the handler reads: the table's options, the globals, the context and the words. */
const KEYS = ['_', 'context', 'root', 'log-level', ...BUILD_OPTIONS.map((o) => o.name)];

const READ: string[][] = [
  [],
  ['.'],
  ['build'],
  ['build', 'ctx'],
  ['-f', 'Dockerfile', '.'],
  ['-f', '-', '.'],
  ['-', '-f', 'x'],
  ['--file=sub/Dockerfile', 'build', 'ctx'],
  ['build', '-t', 'a:1', '-t', 'b:2', '--tag=c', 'ctx'],
  ['--build-arg', 'A=1', '--build-arg=B=x=y', '--build-arg', 'C', '.'],
  ['--progress', 'plain', '--network', 'host', '-f', 'df', '-t', 'tiny:t', '/tmp/ctx'],
  ['--progress=json', '-q', '.'],
  ['--no-cache', '--pull=always', '--target', 'stage1', '.'],
  ['--pull', 'never', '.'],
  ['--pull', '.'],
  ['--tls-verify=false', '--push', '-t', 'localhost:5000/x', '.'],
  ['--push=false', '--load=true', '.'],
  ['--root', '/tmp/store', '--log-level', 'debug', 'build', '.'],
  ['--log-level=warn', '--root=/r', '.'],
  ['-o', 'type=oci,dest=out.tar', '--output', 'type=local,dest=dir', '.'],
  ['-o', '-', '.'],
  ['--platform', 'linux/amd64,linux/arm64', '.'],
  ['--timestamp', '0', '--compression', 'zstd', '--compression-level', '3', '.'],
  ['--timestamp=1700000000', '.'],
  ['--secret', 'id=a,src=f', '--ssh', 'default', '--cache-from', 'type=local,src=c', '--cache-to=type=local,dest=d', '.'],
  ['--add-host', 'h:1.2.3.4', '--shm-size', '128m', '--ulimit', 'nofile=1024:2048', '.'],
  ['--label', 'a=b', '--annotation', 'k=v', '--attest', 'type=sbom', '--provenance', 'mode=max', '--sbom=true', '.'],
  ['--squash', '--squash-all=false', '--isolation', 'chroot', '--run-fsync', '--http-proxy=false', '.'],
  ['--iidfile', 'id.txt', '--metadata-file', 'm.json', '--call', 'check', '--check', '.'],
  ['--build-context', 'base=docker-image://busybox', '--no-cache-filter', 'a,b', '.'],
  ['--authfile', 'auth.json', '--creds', 'u:p', '.'],
];

const DECLINED: string[][] = [
  ['--help'],
  ['-h', '.'],
  ['--bogus', '.'],
  ['-qt', 'x', '.'],
  ['-f=Dockerfile', '.'],
  ['--tag'],
  ['--tag', '--push', '.'],
  ['--tag='],
  ['--progress', 'fancy', '.'],
  ['--network=bridge', '.'],
  ['--file', 'a', '--file', 'b', '.'],
  ['--platform', 'linux/amd64', '--platform', 'linux/arm64', '.'],
  ['a', 'b'],
  ['--push', 'false', '.'],
  ['--push=yes', '.'],
  ['--timestamp', 'soon', '.'],
  ['--timestamp', '1.5', '.'],
  ['--builder', 'x', '.'],
  ['--debug', '.'],
  ['--', '.'],
];

const normalize = (argv: string[]): string[] => normalizeBuildArgv(argv, commandNames());

test('every line readBuildArgv reads gives the handler what yargs gives it', async (t) => {
  for (const line of READ) {
    const argv = normalize(line);
    const fast = readBuildArgv(argv);
    if (!fast) {
      t.fail(`declined: ${line.join(' ')}`);
      continue;
    }
    const slow = await yargsArgv(argv);
    for (const key of KEYS) t.deepEqual(fast[key], slow[key], `${line.join(' ')}: ${key}`);
    for (const key of Object.keys(fast)) t.true(KEYS.includes(key), `${line.join(' ')}: a key yargs does not give: ${key}`);
  }
});

test('lines that are not the usual form go to yargs', (t) => {
  for (const line of DECLINED) t.is(readBuildArgv(normalize(line)), undefined, line.join(' '));
});

test('the CLI reads a usual build line without yargs, and still reports what yargs reports', async (t) => {
  const dir = tempDir('build-argv');
  const env = { NBUILD_TRACE: '1', NBUILD_ROOT: dir };
  const usual = await nbuild(['build', '-f', `${dir}/missing.Dockerfile`, '-t', 'x:1', dir], { env });
  t.not(usual.code, 0);
  t.regex(usual.stderr, /cli: command loaded \(without the parser\)/);
  t.regex(usual.stderr, /missing\.Dockerfile/);
  const unknown = await nbuild(['build', '--bogus', dir], { env });
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown argument: bogus/);
  t.notRegex(unknown.stderr, /without the parser/);
  const choice = await nbuild(['build', '--progress', 'fancy', dir], { env });
  t.is(choice.code, 2);
  t.regex(choice.stderr, /Invalid values:[\s\S]*progress/);
  const refused = await nbuild(['build', '--builder', 'x', dir], { env });
  t.is(refused.code, 2);
  t.regex(refused.stderr, /--builder: not supported by nbuild/);
});
