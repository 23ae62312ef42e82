// Builds through the API (build() of src/index.ts) with `nbuild build` flags, for behaviour tests
// of the user-namespace set (docs/design.md "Tests"): a test passes the flags it would give the
// CLI, they are mapped to BuildOptions with the CLI's defaults and value parsers, and the outcome
// has the CLI's shape: `code` (the error's exitCode), `stdout` (the image id) and `stderr` (the
// plain progress log, then the error as the CLI prints it), with the typed result or error.
import { Writable } from 'node:stream';
import { build, parseBuildContexts, type BuildEvent, type BuildOptions, type BuildResult } from '../../src/index.js';
import { compressionOfOutputs, parseOutputSpec, type OutputSpec } from '../../src/export/outputs.js';
import { parseCacheSpec } from '../../src/cache/export.js';
import { parseAttestations } from '../../src/export/attestations/index.js';
import { parseUlimits } from '../../src/sandbox/ulimit.js';
import { keyValues, parseBuildArgs, parsePlatforms, parseSecrets, parseSize, pullPolicy } from '../../src/cli/commands/build.js';
import { configPaths, loadRegistriesConfig } from '../../src/registry/registries-config.js';
import { parseSshSpecs, startSshAgents } from '../../src/cli/ssh-agents.js';
import { isolationOption, runFsyncOption } from '../../src/cli/run-isolation.js';
import { plainReporter } from '../../src/cli/progress.js';
import { reportError } from '../../src/cli/report-error.js';
import type { RunResult } from './nbuild-cli.js';

export interface ApiBuildOutcome extends RunResult {
  /** The build's result, or the error it threw (typed: src/errors.ts). */
  result?: BuildResult;
  error?: unknown;
}

/** A flag the mapping below does not know: the test fails (it never passes as a failed build). */
class UnmappedFlag extends Error {}

/** The build options of `nbuild build FLAGS` (the flags the ported tests use), with the CLI's defaults. */
export function buildOptions(args: readonly string[], base: { storeRoot: string; contextDir: string; dockerfile?: string }, env: NodeJS.ProcessEnv = process.env): BuildOptions & { ssh: string[] } {
  const many = new Map<string, string[]>();
  const one = new Map<string, string>();
  const flags = new Set<string>();
  const repeatable = ['-t', '--build-arg', '--build-context', '-o', '--cache-to', '--cache-from', '--no-cache-filter', '--ulimit', '--label', '--secret', '--ssh', '--attest'];
  const single = ['--target', '-f', '--shm-size', '--network', '--timestamp', '--metadata-file', '--iidfile', '--platform', '--sbom', '--provenance', '--isolation'];
  const words = args.flatMap((a) => (/^--[a-z-]+=/.test(a) ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a])); // --flag=value
  for (let i = 0; i < words.length; i++) {
    const a = words[i];
    if (a === '--no-cache' || a === '--squash' || a === '--squash-all' || a === '--run-fsync') flags.add(a);
    else if (a === '--pull') one.set(a, /^(always|missing|never|true|false)$/.test(words[i + 1] ?? '') ? words[++i] : ''); // --pull alone, or --pull=POLICY
    else if (repeatable.includes(a) && i + 1 < words.length) many.set(a, [...(many.get(a) ?? []), words[++i]]);
    else if (single.includes(a) && i + 1 < words.length) one.set(a, words[++i]);
    else throw new UnmappedFlag(`apiBuild: ${a} is not mapped to a build option (add it to buildOptions, or test it through the CLI)`);
  }
  const list = (flag: string): string[] => many.get(flag) ?? [];
  const outputs: OutputSpec[] = list('-o').map(parseOutputSpec);
  const fromOutputs = compressionOfOutputs(outputs);
  const network = one.get('--network');
  if (network !== undefined && network !== 'default' && network !== 'host' && network !== 'none') throw new UnmappedFlag(`apiBuild: --network ${network}`);
  const dockerfile = one.get('-f');
  return {
    ...base,
    dockerfile: dockerfile ?? base.dockerfile,
    tags: list('-t'),
    buildArgs: parseBuildArgs(list('--build-arg')),
    buildContexts: parseBuildContexts(list('--build-context')),
    target: one.get('--target'),
    labels: keyValues(list('--label'), '--label'),
    noCache: flags.has('--no-cache'),
    noCacheStages: list('--no-cache-filter').flatMap((v) => v.split(',')).filter(Boolean),
    squash: flags.has('--squash-all') ? 'all' : flags.has('--squash') ? 'build' : 'none',
    pull: pullPolicy(one.get('--pull')),
    compression: fromOutputs.compression,
    compressionLevel: fromOutputs.level,
    forceCompression: fromOutputs.force,
    network: network ?? 'default',
    secrets: parseSecrets(list('--secret')),
    shmSize: one.has('--shm-size') ? parseSize(one.get('--shm-size') as string, '--shm-size') : undefined,
    isolation: isolationOption(one.get('--isolation'), env),
    runFsync: runFsyncOption(flags.has('--run-fsync'), env),
    ulimits: parseUlimits(list('--ulimit')),
    // The registries.toml files the CLI reads, from the environment it would run in.
    registry: { tlsVerify: true, registriesConfig: loadRegistriesConfig(configPaths(env)) },
    outputs,
    cacheFrom: list('--cache-from').map((s) => parseCacheSpec(s, 'from')),
    cacheTo: list('--cache-to').map((s) => parseCacheSpec(s, 'to')),
    timestamp: one.has('--timestamp') ? Number(one.get('--timestamp')) : undefined,
    iidfile: one.get('--iidfile'),
    metadataFile: one.get('--metadata-file'),
    metadataProvenance: 'min',
    platforms: parsePlatforms(one.get('--platform')),
    attestations: parseAttestations({ attest: list('--attest'), provenance: one.get('--provenance'), sbom: one.get('--sbom') }),
    ssh: list('--ssh'),
  };
}

/** Text written to it, kept (the harness's stderr). */
class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Builds `contextDir` with `nbuild build` FLAGS through build(); never throws on a failed build. */
/** `extra.env`: the environment the CLI would run in (NBUILD_REGISTRIES_CONFIG, SSH_AUTH_SOCK for
 *  `--ssh default`; default this process's); `extra.sshEnv` overrides it for `--ssh` alone. */
export async function apiBuild(storeRoot: string, contextDir: string, args: readonly string[], extra: { dockerfile?: string; onEvent?: (e: BuildEvent) => void; env?: NodeJS.ProcessEnv; sshEnv?: NodeJS.ProcessEnv } = {}): Promise<ApiBuildOutcome> {
  const log = new TextSink();
  let agents: Awaited<ReturnType<typeof startSshAgents>> | undefined;
  try {
    const { ssh, ...options } = buildOptions(args, { storeRoot, contextDir, dockerfile: extra.dockerfile }, extra.env);
    agents = await startSshAgents(parseSshSpecs(ssh, extra.sshEnv ?? extra.env));
    const report = plainReporter(log);
    const result = await build({ ...options, sshAgents: agents.sockets, onEvent: (e) => (extra.onEvent?.(e), report(e)) });
    return { code: 0, stdout: `${result.index?.digest ?? result.image.configDigest}\n`, stderr: log.text, result };
  } catch (error) {
    if (error instanceof UnmappedFlag) throw error;
    const code = reportError(error, false, log);
    return { code, stdout: '', stderr: log.text, error };
  } finally {
    await agents?.stop();
  }
}
