// `nbuild build [options] CONTEXT` (also the default command: `nbuild -f Dockerfile .`).
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { build } from '../../build.js';
import { parseOutputSpec } from '../../export/outputs.js';
import { parseCacheSpec } from '../../executor/cache-export.js';
import { resolveStoreRoot } from '../global-options.js';
import { progressReporter, type ProgressMode } from '../progress.js';
import { enterUserNamespace } from '../../sandbox/index.js';
import { NbuildError, UsageError } from '../../errors.js';
import { formatPlatform, hostPlatform, parsePlatform, samePlatform } from '../../planner/args.js';
import type { Compression } from '../../image/media-types.js';
import { trace } from '../../trace.js';

interface BuildArgs {
  context: string;
  file?: string;
  tag: string[];
  'build-arg': string[];
  target?: string;
  label: string[];
  'no-cache': boolean;
  squash: boolean;
  'squash-all': boolean;
  pull: boolean;
  compression: Compression | 'uncompressed';
  'compression-level'?: number;
  network: 'host' | 'none' | 'default';
  output: string[];
  iidfile?: string;
  'metadata-file'?: string;
  progress: ProgressMode;
  secret: string[];
  timestamp?: number;
  platform?: string;
  isolation?: string;
  'run-fsync': boolean;
  root?: string;
  'cache-from': string[];
  'cache-to': string[];
}

export const buildCommand: CommandModule<object, BuildArgs> = {
  command: ['build [context]', '$0 [context]'],
  describe: 'build an image from a Dockerfile (the default command)',
  builder: (y: Argv) =>
    y
      .positional('context', { type: 'string', default: '.', describe: 'the build context folder' })
      .option('file', { alias: 'f', type: 'string', describe: 'the Dockerfile (default CONTEXT/Dockerfile; - for stdin)' })
      .option('tag', { alias: 't', type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'name the image (repeatable)' })
      .option('build-arg', { type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'K=V, or K to take the value from the environment' })
      .option('target', { type: 'string', describe: 'the stage to build' })
      .option('label', { type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'K=V label on the image' })
      .option('no-cache', { type: 'boolean', default: false, describe: 'run every step' })
      .option('squash', { type: 'boolean', default: false, describe: "this build's layers become one (base layers kept)" })
      .option('squash-all', { type: 'boolean', default: false, describe: 'the whole image becomes one layer' })
      .option('pull', { type: 'boolean', default: false, describe: 're-resolve base images' })
      .option('compression', { type: 'string', choices: ['gzip', 'zstd', 'uncompressed', 'none'], default: 'gzip' })
      .option('compression-level', { type: 'number', describe: 'gzip 1-9, zstd 1-19' })
      .option('network', { type: 'string', choices: ['host', 'none', 'default'], default: 'host', describe: 'network of RUN steps' })
      .option('output', { alias: 'o', type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'type=oci|oci-layout|docker|registry|local|tar,dest=…  or FILE.tar' })
      .option('iidfile', { type: 'string', describe: 'write the image id (config digest) here' })
      .option('metadata-file', { type: 'string', describe: 'write the image digests and names as JSON here' })
      .option('progress', { type: 'string', choices: ['auto', 'tty', 'plain', 'json', 'quiet'], default: 'auto' })
      .option('secret', { type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'id=ID,src=FILE for RUN --mount=type=secret' })
      .option('cache-from', { type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'type=local,src=DIR | type=registry,ref=NAME: reuse a shared build cache' })
      .option('cache-to', { type: 'string', nargs: 1, default: [], coerce: toArray, describe: 'type=local,dest=DIR | type=registry,ref=NAME: export the build cache' })
      .option('timestamp', { type: 'number', describe: 'seconds since the epoch for every timestamp (else the SOURCE_DATE_EPOCH build arg or environment variable)' })
      .option('platform', { type: 'string', describe: 'the host platform only' })
      .option('isolation', { type: 'string', choices: ['overlay', 'fuse-overlayfs', 'copy', 'chroot'], describe: 'force how RUN steps are isolated (default: the best this host allows; see nbuild info)' })
      .option('run-fsync', { type: 'boolean', default: false, describe: "RUN steps' fsync/sync calls really sync (default: skipped, see docs/differences.md)" }) as unknown as Argv<BuildArgs>,
  handler: async (argv: ArgumentsCamelCase<BuildArgs>) => {
    if (argv.context === '-') throw new UsageError('a context tar on stdin (CONTEXT -) is not supported yet; give a folder');
    checkPlatformFlag(argv.platform);
    if (argv.isolation) process.env.NBUILD_ISOLATION = argv.isolation; // read by the ladder, also after the re-exec
    if (argv['run-fsync']) process.env.NBUILD_RUN_FSYNC = '1'; // read by the RUN step, also after the re-exec
    trace('cli: build handler');
    await enterUserNamespace();
    const reporter = progressReporter(argv.progress);
    const abort = new AbortController();
    const onSignal = (sig: NodeJS.Signals): void => abort.abort(new NbuildError('INTERRUPTED', `build interrupted by ${sig}`, { exitCode: 130 }));
    process.on('SIGINT', onSignal); // on, not once: a second signal must not kill the cleanup
    process.on('SIGTERM', onSignal);
    const compression = argv.compression === 'uncompressed' ? 'none' : argv.compression;
    const epoch = argv.timestamp;
    if (epoch !== undefined && !Number.isInteger(epoch)) throw new UsageError('--timestamp must be whole seconds');
    const buildArgs = parseBuildArgs(argv['build-arg']);
    // buildx's convention: SOURCE_DATE_EPOCH in the environment is that build arg, unless one is given.
    const envEpoch = process.env.SOURCE_DATE_EPOCH;
    if (envEpoch && !buildArgs.has('SOURCE_DATE_EPOCH')) buildArgs.set('SOURCE_DATE_EPOCH', envEpoch);
    const result = await build({
      storeRoot: resolveStoreRoot(argv.root),
      contextDir: argv.context,
      dockerfile: argv.file === '-' ? undefined : argv.file,
      dockerfileText: argv.file === '-' ? await readStdin() : undefined,
      tags: argv.tag,
      buildArgs,
      target: argv.target,
      labels: keyValues(argv.label, '--label'),
      noCache: argv['no-cache'],
      squash: argv['squash-all'] ? 'all' : argv.squash ? 'build' : 'none',
      pull: argv.pull,
      compression,
      compressionLevel: argv['compression-level'],
      network: argv.network === 'none' ? 'none' : 'host',
      timestamp: epoch,
      secrets: parseSecrets(argv.secret),
      outputs: argv.output.map(parseOutputSpec),
      cacheFrom: argv['cache-from'].map((s) => parseCacheSpec(s, 'from')),
      cacheTo: argv['cache-to'].map((s) => parseCacheSpec(s, 'to')),
      iidfile: argv.iidfile,
      metadataFile: argv['metadata-file'],
      onEvent: reporter,
      signal: abort.signal,
    });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    // json is machine-read: one event per line and nothing else on stderr.
    if (argv.progress !== 'quiet' && argv.progress !== 'json') {
      process.stderr.write(`Built ${result.image.manifestDigest}${result.names.length ? ` as ${result.names.join(', ')}` : ''}\n`);
      for (const out of argv.output) process.stderr.write(`Wrote ${out}\n`);
    }
    process.stdout.write(`${result.image.configDigest}\n`);
    trace('cli: build done');
  },
};

/** `--platform` may name the host's platform only: nbuild does not emulate other CPUs. */
function checkPlatformFlag(value: string | undefined): void {
  if (value === undefined || value === '' || value === 'local') return;
  const host = hostPlatform();
  for (const one of value.split(',')) {
    const wanted = parsePlatform(one);
    if (!wanted) throw new UsageError(`--platform ${one}: not a platform (use os/arch[/variant])`);
    if (!samePlatform(wanted, host)) {
      throw new UsageError(`--platform ${one}: nbuild builds for this host's platform (${formatPlatform(host)}) only; build on a ${wanted.architecture} machine instead`);
    }
  }
}

/** Repeatable flags: yargs gives a string for one, an array for several. */
function toArray(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

function parseBuildArgs(values: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) {
      const fromEnv = process.env[v];
      if (fromEnv !== undefined) args.set(v, fromEnv);
    } else args.set(v.slice(0, eq), v.slice(eq + 1));
  }
  return args;
}

function keyValues(values: string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${v}: expected KEY=VALUE`);
    out.set(v.slice(0, eq), v.slice(eq + 1));
  }
  return out;
}

function parseSecrets(values: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const fields = new Map(v.split(',').map((p) => p.split('=', 2) as [string, string]));
    const id = fields.get('id');
    const src = fields.get('src') ?? fields.get('source');
    if (!id || !src) throw new UsageError(`--secret ${v}: expected id=ID,src=FILE`);
    out.set(id, src);
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
