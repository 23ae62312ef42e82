// `nbuild build [options] CONTEXT` (also the default command: `nbuild -f Dockerfile .`).
import type { ArgumentsCamelCase, Argv } from 'yargs';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { build, type PullPolicy } from '../../build.js';
import { compressionOfOutputs, parseOutputSpec, writesToStdout } from '../../export/outputs.js';
import type { SecretSource } from '../../executor/context.js';
import { refuseUnsupported, STDIN_CONTEXT, yargsOptions } from '../build-options.js';
import { sessionOptions } from '../registry-options.js';
import { contextFromStdin } from '../stdin-context.js';
import { addDefaultProxyArgs } from '../proxy-args.js';
import { parseSshSpecs, startSshAgents } from '../ssh-agents.js';
import { isRemoteContext, parseBuildContexts } from '../../context/named-contexts.js';
import { parseCacheSpec } from '../../cache/export.js';
import { resolveStoreRoot } from '../global-options.js';
import { progressMode as resolveProgressMode, progressReporter, type ProgressMode } from '../progress.js';
import type { BuildEvent } from '../../executor/events.js';
import { enterUserNamespace } from '../../sandbox/index.js';
import { UsageError } from '../../errors.js';
import { interruptSignal } from '../../interrupt.js';
import { hostPlatform, parsePlatform, samePlatform, type Platform } from '../../planner/args.js';
import type { Compression } from '../../image/media-types.js';
import { trace } from '../../trace.js';
import type { NbuildCommand } from '../command.js';
import { isolationOption, runFsyncOption } from '../run-isolation.js';
import { parseAnnotation } from '../../image/annotations.js';
import { parseAttestations } from '../../export/attestations/index.js';
import { parseUlimits } from '../../sandbox/ulimit.js';
import { stderr, stdout } from '../../stdio.js';

interface BuildArgs {
  context: string;
  file?: string;
  tag: string[];
  'build-arg': string[];
  target?: string;
  label: string[];
  'no-cache': boolean;
  'no-cache-filter': string[];
  squash: boolean;
  'squash-all': boolean;
  pull?: string;
  push: boolean;
  load: boolean;
  quiet: boolean;
  compression?: Compression | 'uncompressed';
  'compression-level'?: number;
  network: 'default' | 'host' | 'none';
  output: string[];
  iidfile?: string;
  'metadata-file'?: string;
  progress?: ProgressMode | 'rawjson';
  secret: string[];
  ssh: string[];
  timestamp?: number;
  platform?: string;
  isolation?: string;
  'run-fsync': boolean;
  'http-proxy': boolean;
  root?: string;
  'cache-from': string[];
  'cache-to': string[];
  'add-host': string[];
  'shm-size'?: string;
  ulimit: string[];
  call?: string;
  check?: boolean;
  annotation: string[];
  'build-context': string[];
  attest: string[];
  provenance?: string;
  sbom?: string;
  'tls-verify': boolean;
  authfile?: string;
  creds?: string;
}

export const buildCommand: NbuildCommand<BuildArgs> = {
  userns: true,
  command: ['build [context]', '$0 [context]'],
  describe: 'build an image from a Dockerfile (the default command)',
  builder: (y: Argv) =>
    y
      .positional('context', { type: 'string', default: '.', describe: 'the build context: a folder, a Git URL (…repo.git#ref:subdir, git@host:repo), an http(s) URL (a tar, or a Dockerfile), or - (a tar of the context, or a Dockerfile, on stdin)' })
      .options(yargsOptions()) as unknown as Argv<BuildArgs>,
  handler: async (argv: ArgumentsCamelCase<BuildArgs>) => {
    refuseUnsupported(argv as unknown as Record<string, unknown>);
    const platforms = parsePlatforms(Array.isArray(argv.platform) ? argv.platform.join(',') : argv.platform);
    const call = argv.check ? 'check' : (argv.call ?? 'build');
    if (call === 'check') return callCheck(argv);
    if (call !== 'build') throw new UsageError(`--call ${call}: not supported (build, check)`);
    const isolation = isolationOption(argv.isolation);
    const runFsync = runFsyncOption(argv['run-fsync']);
    trace('cli: build handler');
    const outputs = argv.output.map(parseOutputSpec);
    const attestations = parseAttestations({ attest: argv.attest, provenance: argv.provenance, sbom: argv.sbom });
    const annotationSpecs = argv.annotation.map(parseAnnotation);
    if (argv.push) outputs.push({ type: 'registry', push: true });
    const loadFile = argv.load ? await loadTarget() : undefined;
    if (loadFile) outputs.push({ type: 'docker', dest: loadFile.file, load: true });
    const toStdout = writesToStdout(outputs);
    const fromOutputs = compressionOfOutputs(outputs);
    const compressionFlag = argv.compression === 'uncompressed' ? 'none' : argv.compression;
    if (compressionFlag && fromOutputs.compression && compressionFlag !== fromOutputs.compression) {
      throw new UsageError(`--compression ${argv.compression} and --output compression=${fromOutputs.compression} disagree`);
    }
    const epoch = argv.timestamp;
    if (epoch !== undefined && !Number.isInteger(epoch)) throw new UsageError('--timestamp must be whole seconds');
    const buildArgs = parseBuildArgs(argv['build-arg']);
    const buildContexts = parseBuildContexts(argv['build-context']);
    // buildx's convention: SOURCE_DATE_EPOCH in the environment is that build arg, unless one is given.
    const envEpoch = process.env.SOURCE_DATE_EPOCH;
    if (envEpoch && !buildArgs.has('SOURCE_DATE_EPOCH')) buildArgs.set('SOURCE_DATE_EPOCH', envEpoch);
    const hostProxyArgs = argv['http-proxy'] ? addDefaultProxyArgs(buildArgs) : new Set<string>();
    const progress = progressMode(argv);
    const registry = sessionOptions(argv);
    const sshSources = parseSshSpecs(argv.ssh);
    await enterUserNamespace();
    const reporter = progressReporter(progress);
    // The summary line comes last, after the Built/Wrote lines below.
    let summary: BuildEvent | undefined;
    const onEvent = (e: BuildEvent): void => (e.type === 'build-done' ? void (summary = e) : reporter(e));
    const signal = interruptSignal(); // from here a signal aborts the build, which cleans up and exits 128+N
    const stdinContext = argv.context === STDIN_CONTEXT ? await contextFromStdin() : undefined;
    if (stdinContext?.dockerfileText !== undefined && argv.file !== undefined) {
      await stdinContext.remove();
      throw new UsageError('nbuild build -: standard input holds a Dockerfile, so -f has nothing to name');
    }
    const ulimits = parseUlimits(argv.ulimit);
    const sshAgents = await startSshAgents(sshSources);
    try {
      const result = await build({
        storeRoot: resolveStoreRoot(argv.root),
        contextDir: stdinContext?.dir ?? argv.context,
        buildContexts,
        dockerfile: argv.file === '-' ? undefined : argv.file !== undefined && stdinContext ? path.join(stdinContext.dir, argv.file) : argv.file,
        dockerfileText: stdinContext?.dockerfileText ?? (argv.file === '-' ? await readStdin() : undefined),
        tags: argv.tag,
        buildArgs,
        target: argv.target,
        labels: keyValues(argv.label, '--label'),
        noCache: argv['no-cache'],
        noCacheStages: argv['no-cache-filter'].flatMap((v) => v.split(',')).filter(Boolean),
        squash: argv['squash-all'] ? 'all' : argv.squash ? 'build' : 'none',
        pull: pullPolicy(argv.pull),
        compression: compressionFlag ?? fromOutputs.compression,
        compressionLevel: argv['compression-level'] ?? fromOutputs.level,
        forceCompression: fromOutputs.force,
        network: argv.network,
        timestamp: epoch,
        secrets: parseSecrets(argv.secret),
        sshAgents: sshAgents.sockets,
        unrecordedArgs: hostProxyArgs,
        extraHosts: parseAddHosts(argv['add-host']),
        shmSize: argv['shm-size'] === undefined ? undefined : parseSize(argv['shm-size'], '--shm-size'),
        isolation,
        runFsync,
        annotationSpecs,
        attestations,
        ulimits,
        registry,
        outputs,
        cacheFrom: argv['cache-from'].map((s) => parseCacheSpec(s, 'from')),
        cacheTo: argv['cache-to'].map((s) => parseCacheSpec(s, 'to')),
        iidfile: argv.iidfile,
        metadataFile: argv['metadata-file'],
        metadataProvenance: metadataProvenance(process.env.BUILDX_METADATA_PROVENANCE),
        onEvent,
        signal,
        platforms,
      });
      if (loadFile) await loadFile.load();
      reporter.close();
      // json is machine-read: one event per line and nothing else on stderr.
      if (progress !== 'quiet' && progress !== 'json') {
        const built = result.index ? `${result.index.digest} (an index of ${result.index.platforms().join(', ')})` : `${result.image.manifestDigest}`;
        stderr.write(`Built ${built}${result.names.length ? ` as ${result.names.join(', ')}` : ''}\n`);
        for (const out of argv.output) stderr.write(`Wrote ${out === '-' ? 'stdout' : out}\n`);
      }
      // The image id on stdout, unless stdout carries an archive.
      if (!toStdout) stdout.write(`${result.index?.digest ?? result.image.configDigest}\n`);
      if (summary) reporter(summary);
    } finally {
      reporter.close();
      await sshAgents.stop();
      await stdinContext?.remove();
      await loadFile?.remove();
    }
    trace('cli: build done');
  },
};

/** -q is --progress=quiet; otherwise --progress, then $BUILDKIT_PROGRESS, then auto (progress.ts). */
function progressMode(argv: BuildArgs): ProgressMode {
  return resolveProgressMode(argv.progress, argv.quiet);
}

/** $BUILDX_METADATA_PROVENANCE, as buildx reads it: min (default), max, or disabled/false/0. */
function metadataProvenance(value: string | undefined): 'min' | 'max' | false {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'min' || v === 'true' || v === '1') return 'min';
  if (v === 'max') return 'max';
  if (v === 'disabled' || v === 'false' || v === '0') return false;
  throw new UsageError(`BUILDX_METADATA_PROVENANCE=${value}: expected min, max or disabled`);
}

/** `--pull` alone is always (buildx); `--pull=false` is missing. */
export function pullPolicy(value: string | undefined): PullPolicy {
  if (value === undefined || value === 'false' || value === 'missing') return 'missing';
  if (value === '' || value === 'true' || value === 'always') return 'always';
  if (value === 'never') return 'never';
  throw new UsageError(`--pull ${value}: expected always, missing or never`);
}

async function callCheck(argv: BuildArgs): Promise<void> {
  if (isRemoteContext(argv.context)) throw new UsageError(`--call check: the context ${argv.context} is not fetched to be checked; check a local Dockerfile (nbuild check -f FILE)`);
  const { checkDockerfile } = await import('./check.js');
  const contextDir = argv.context === STDIN_CONTEXT ? undefined : argv.context;
  const file = argv.file ?? path.join(contextDir ?? '.', 'Dockerfile');
  await checkDockerfile({ file, contextDir, format: 'text', buildArgs: argv['build-arg'], root: argv.root });
}

/** `--add-host NAME:IP` (buildx; also NAME=IP) → an /etc/hosts line. */
function parseAddHosts(values: string[]): string[] {
  return values.map((v) => {
    const m = /^([^:=]+)[:=](.+)$/.exec(v);
    if (!m) throw new UsageError(`--add-host ${v}: expected NAME:IP`);
    const [, name, ip] = m;
    if (ip === 'host-gateway') throw new UsageError(`--add-host ${v}: host-gateway is not supported (name the address)`);
    if (!isIP(ip.replace(/^\[|\]$/g, ''))) throw new UsageError(`--add-host ${v}: ${ip} is not an IP address`);
    return `${ip.replace(/^\[|\]$/g, '')}\t${name}`;
  });
}

/** `64m`, `1g`, `1048576` → bytes. */
export function parseSize(value: string, flag: string): number {
  const m = /^(\d+)([bkmg]?)b?$/i.exec(value.trim());
  if (!m) throw new UsageError(`${flag} ${value}: expected a size such as 64m or 1g`);
  const bytes = Number(m[1]) * 1024 ** 'bkmg'.indexOf((m[2] || 'b').toLowerCase());
  if (bytes < 4096) throw new UsageError(`${flag} ${value}: at least 4k`);
  return bytes;
}

/** --load: a docker archive in a temp file, then `docker load` (or `podman load` when docker is not reachable). */
async function loadTarget(): Promise<{ file: string; load(): Promise<void>; remove(): Promise<void> }> {
  const { loaderCommand } = await import('../load-into.js');
  const loader = await loaderCommand();
  const fs = await import('node:fs/promises');
  const os = await import('node:os');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nbuild-load-'));
  const file = path.join(dir, 'image.tar');
  let handedBack = false;
  return {
    file,
    load: async () => {
      await loader.load(file);
      handedBack = loader.handsBack === true;
    },
    // A file handed back to the launcher is its to load and remove.
    remove: async () => (handedBack ? undefined : fs.rm(dir, { recursive: true, force: true })),
  };
}

/** `--platform a,b,…` (also repeated): the target platforms, each once; `local` is this host's. */
export function parsePlatforms(value: string | undefined): Platform[] | undefined {
  if (value === undefined || value === '') return undefined;
  const out: Platform[] = [];
  for (const one of value.split(',').map((v) => v.trim()).filter(Boolean)) {
    const wanted = one === 'local' ? hostPlatform() : parsePlatform(one);
    if (!wanted) throw new UsageError(`--platform ${one}: not a platform (use os/arch[/variant])`);
    if (out.some((p) => samePlatform(p, wanted))) throw new UsageError(`--platform ${one}: given twice`);
    out.push(wanted);
  }
  return out;
}

export function parseBuildArgs(values: string[]): Map<string, string> {
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

export function keyValues(values: string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${v}: expected KEY=VALUE`);
    out.set(v.slice(0, eq), v.slice(eq + 1));
  }
  return out;
}

/** `--secret id=ID,src=FILE` (also source=), `id=ID,env=VAR`, or `id=ID` alone (the env var ID, else the file ID), as buildx. */
export function parseSecrets(values: string[]): Map<string, SecretSource> {
  const out = new Map<string, SecretSource>();
  for (const v of values) {
    const fields = new Map<string, string>();
    for (const part of v.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UsageError(`--secret ${v}: "${part}" is not key=value`);
      fields.set(part.slice(0, eq), part.slice(eq + 1));
    }
    for (const key of fields.keys()) {
      if (!['id', 'src', 'source', 'env', 'type'].includes(key)) throw new UsageError(`--secret ${v}: unknown key ${key} (id, src, env, type)`);
    }
    const type = fields.get('type');
    if (type !== undefined && type !== 'file' && type !== 'env') throw new UsageError(`--secret ${v}: type must be file or env`);
    const id = fields.get('id');
    if (!id) throw new UsageError(`--secret ${v}: expected id=ID,src=FILE or id=ID,env=VAR`);
    const src = fields.get('src') ?? fields.get('source');
    const env = fields.get('env') ?? (type === 'env' ? (src ?? id) : undefined);
    if (env !== undefined && type !== 'file') {
      const value = process.env[env];
      if (value === undefined) throw new UsageError(`--secret ${v}: the environment variable ${env} is not set`);
      out.set(id, { value });
    } else if (src !== undefined) out.set(id, { file: path.resolve(src) });
    else if (process.env[id] !== undefined) out.set(id, { value: process.env[id] as string });
    else out.set(id, { file: path.resolve(id) });
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
