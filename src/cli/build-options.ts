// Every option of `nbuild build`, in one table: yargs reads it (so `nbuild build --help` is made
// from it), the handler refuses the ones marked refused, docs/cli.md and the CLI test walk it.
// `buildx` says whether `docker buildx build` has the flag; a buildx flag nbuild cannot honour is
// still declared, so that it is refused by name instead of being taken for a context path.
import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import { registryOptions } from './registry-options.js';

export interface BuildOptionEntry {
  name: string;
  alias?: string;
  yargs: Options;
  buildx: boolean;
  /** implemented: does what buildx documents; refused: exits 2 with `refusal`, unless `accept` allows the value. */
  status: 'implemented' | 'refused';
  refusal?: string;
  /** For a refused flag: values that ask for what nbuild does anyway (e.g. `--provenance=false`). */
  accept?: (value: unknown) => boolean;
}

const repeatable = (describe: string): Options => ({ type: 'string', nargs: 1, default: [], coerce: toArray, describe });

export const BUILD_OPTIONS: readonly BuildOptionEntry[] = [
  { name: 'file', alias: 'f', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'the Dockerfile (default CONTEXT/Dockerfile; - for stdin)' } },
  { name: 'tag', alias: 't', buildx: true, status: 'implemented', yargs: repeatable('name the image (repeatable)') },
  { name: 'build-arg', buildx: true, status: 'implemented', yargs: repeatable('K=V, or K to take the value from the environment') },
  { name: 'target', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'the stage to build' } },
  { name: 'label', buildx: true, status: 'implemented', yargs: repeatable('K=V label on the image') },
  { name: 'no-cache', buildx: true, status: 'implemented', yargs: { type: 'boolean', default: false, describe: 'run every step' } },
  { name: 'no-cache-filter', buildx: true, status: 'implemented', yargs: repeatable('run every step of these stages (repeatable, or comma-separated)') },
  { name: 'pull', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'always (the bare flag) | missing (default) | never: when to look up base images in their registry' } },
  { name: 'output', alias: 'o', buildx: true, status: 'implemented', yargs: repeatable('type=oci|oci-layout|docker|image|registry|local|tar,dest=…; DIR (= type=local); FILE.tar (= type=oci); - (a tar on stdout)') },
  { name: 'push', buildx: true, status: 'implemented', yargs: { type: 'boolean', default: false, describe: 'push every -t name (= -o type=registry)' } },
  { name: 'load', buildx: true, status: 'implemented', yargs: { type: 'boolean', default: false, describe: 'load the image into the local docker (or podman) (= -o type=docker piped to docker load)' } },
  { name: 'quiet', alias: 'q', buildx: true, status: 'implemented', yargs: { type: 'boolean', default: false, describe: 'no progress; print only the image id' } },
  { name: 'iidfile', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'write the image id (config digest) here' } },
  { name: 'metadata-file', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'write the image digests and names as JSON here' } },
  { name: 'progress', buildx: true, status: 'implemented', yargs: { type: 'string', choices: ['auto', 'tty', 'plain', 'json', 'quiet', 'rawjson'], describe: 'auto (default, or $BUILDKIT_PROGRESS) | tty | plain | json | quiet' } },
  { name: 'secret', buildx: true, status: 'implemented', yargs: repeatable('id=ID,src=FILE or id=ID,env=VAR for RUN --mount=type=secret') },
  { name: 'ssh', buildx: true, status: 'implemented', yargs: repeatable('default | ID[=SOCKET|KEY[,KEY]]: the SSH agent ($SSH_AUTH_SOCK, a socket, or key files loaded into an ssh-agent) for RUN --mount=type=ssh[,id=ID]') },
  { name: 'cache-from', buildx: true, status: 'implemented', yargs: repeatable('type=local,src=DIR | type=registry,ref=NAME: reuse a shared build cache') },
  { name: 'cache-to', buildx: true, status: 'implemented', yargs: repeatable('type=local,dest=DIR | type=registry,ref=NAME [,mode=min|max]: export the build cache') },
  { name: 'network', buildx: true, status: 'implemented', yargs: { type: 'string', choices: ['default', 'host', 'none'], default: 'default', describe: "network of RUN steps: default (a namespace of each step's own, outbound through slirp4netns), host or none" } },
  { name: 'add-host', buildx: true, status: 'implemented', yargs: repeatable('NAME:IP line added to /etc/hosts of RUN steps (repeatable)') },
  { name: 'shm-size', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'size of /dev/shm in RUN steps (e.g. 128m; default 64m)' } },
  { name: 'ulimit', buildx: true, status: 'implemented', yargs: repeatable('TYPE=SOFT[:HARD] resource limit of RUN steps, e.g. nofile=1024:2048 (repeatable; -1 = unlimited; a hard limit cannot exceed nbuild\'s own)') },
  { name: 'platform', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'target platforms, os/arch[/variant][,…]: two or more give one OCI image index; foreign RUN steps need a qemu binfmt handler (nbuild info)' } },
  { name: 'call', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'build (default) | check (= nbuild check: lint the Dockerfile, build nothing)' } },
  { name: 'check', buildx: true, status: 'implemented', yargs: { type: 'boolean', describe: 'shorthand for --call=check' } },
  { name: 'build-context', buildx: true, status: 'implemented', yargs: repeatable('NAME=VALUE: a folder, docker-image://REF, oci-layout://DIR[:TAG|@DIGEST], a Git URL or an http(s) URL, in place of FROM NAME, COPY --from=NAME and the stage NAME (repeatable)') },
  { name: 'annotation', buildx: true, status: 'implemented', yargs: repeatable('[TYPE[,TYPE][[os/arch]]:]KEY=VALUE, TYPE manifest (default), index, manifest-descriptor, index-descriptor (repeatable)') },
  { name: 'attest', buildx: true, status: 'implemented', yargs: repeatable('type=provenance[,mode=min|max][,builder-id=URL] | type=sbom: in-toto attestations beside the image (the result is an OCI index)') },
  { name: 'provenance', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'true | false | mode=min|max,…: shorthand for --attest type=provenance,…' } },
  { name: 'sbom', buildx: true, status: 'implemented', yargs: { type: 'string', describe: 'true | false: shorthand for --attest type=sbom (an SPDX list of the dpkg/apk packages of the image)' } },
  ...Object.entries(registryOptions).map(([name, yargs]): BuildOptionEntry => ({ name, buildx: false, status: 'implemented', yargs })),
  { name: 'timestamp', buildx: false, status: 'implemented', yargs: { type: 'number', describe: 'seconds since the epoch for every timestamp (else the SOURCE_DATE_EPOCH build arg or environment variable)' } },
  { name: 'squash', buildx: false, status: 'implemented', yargs: { type: 'boolean', default: false, describe: "this build's layers become one (base layers kept)" } },
  { name: 'squash-all', buildx: false, status: 'implemented', yargs: { type: 'boolean', default: false, describe: 'the whole image becomes one layer' } },
  { name: 'compression', buildx: false, status: 'implemented', yargs: { type: 'string', choices: ['gzip', 'zstd', 'uncompressed', 'none'], describe: 'layer compression (default gzip; uncompressed in the store until the image leaves it when nothing is exported; also -o compression=)' } },
  { name: 'compression-level', buildx: false, status: 'implemented', yargs: { type: 'number', describe: 'gzip 1-9, zstd 1-19' } },
  { name: 'isolation', buildx: false, status: 'implemented', yargs: { type: 'string', choices: ['overlay', 'fuse-overlayfs', 'copy', 'chroot'], describe: 'force how RUN steps are isolated (default: the best this host allows; see nbuild info)' } },
  { name: 'http-proxy', buildx: false, status: 'implemented', yargs: { type: 'boolean', default: true, describe: "RUN gets the proxy variables of ~/.docker/config.json's proxies.default, else of nbuild's environment, unless a --build-arg names them (--http-proxy=false: only --build-arg ones)" } },
  { name: 'run-fsync', buildx: false, status: 'implemented', yargs: { type: 'boolean', default: false, describe: "RUN steps' fsync/sync calls really sync (default: skipped, see docs/differences.md)" } },
  // buildx flags nbuild does not honour yet: refused by name, never ignored.
  { name: 'allow', buildx: true, status: 'refused', refusal: 'no entitlements: RUN --security=insecure and --network=host entitlements do not apply rootless', yargs: { type: 'string' } },
  { name: 'builder', buildx: true, status: 'refused', refusal: 'nbuild is its own builder; drop --builder', yargs: { type: 'string' } },
  { name: 'cgroup-parent', buildx: true, status: 'refused', refusal: 'RUN steps are not placed in cgroups', yargs: { type: 'string' } },
  { name: 'debug', buildx: true, status: 'refused', refusal: 'no debug shell; use --log-level debug', yargs: { type: 'boolean' } },
  { name: 'memory', buildx: false, status: 'refused', refusal: 'RUN steps are not placed in cgroups', yargs: { type: 'string' } },
];

/** Repeatable flags: yargs gives a string for one, an array for several. */
export function toArray(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

/** The yargs option set of the table. */
export function yargsOptions(): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const o of BUILD_OPTIONS) {
    const desc = o.status === 'refused' ? `not supported: ${o.refusal}` : o.yargs.describe;
    out[o.name] = { ...o.yargs, ...(o.alias ? { alias: o.alias } : {}), describe: desc, hidden: o.status === 'refused' };
  }
  return out;
}

/** Throws a one-line usage error for a refused flag that was given. */
export function refuseUnsupported(argv: Record<string, unknown>): void {
  for (const o of BUILD_OPTIONS) {
    if (o.status !== 'refused') continue;
    const value = argv[o.name];
    if (value === undefined) continue;
    if (o.accept?.(value)) continue;
    throw new UsageError(`--${o.name}: not supported by nbuild: ${o.refusal}`);
  }
}

const PULL_WORDS = ['always', 'missing', 'never', 'true', 'false'];

/** yargs drops a bare `-`; the build context `-` (stdin) reaches the handler as this marker (argv cannot hold NUL). */
export const STDIN_CONTEXT = '\0-';

/** The flags before the command word whose value is the next word (global and build options). */
function flagsWithValues(): Set<string> {
  const valueFlags = new Set(['--root', '--log-level']);
  for (const o of BUILD_OPTIONS) {
    if (o.yargs.type !== 'string' && o.yargs.type !== 'number') continue;
    valueFlags.add(`--${o.name}`);
    if (o.alias) valueFlags.add(`-${o.alias}`);
  }
  return valueFlags;
}

/**
 * The command argv (after normalizeBuildArgv) runs: its first word that is not an option or an
 * option's value, when that is one of `commands`; otherwise `build`, the default command
 * (`nbuild -f Dockerfile .`). Read the way normalizeBuildArgv reads it, so both agree.
 */
export function commandWord(argv: readonly string[], commands: readonly string[]): string {
  const valueFlags = flagsWithValues();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a !== '-' && a.startsWith('-')) {
      if (valueFlags.has(a)) i++;
      continue;
    }
    return commands.includes(a) ? a : 'build';
  }
  return 'build';
}

/**
 * Replaces the build's positional `-` (context on stdin) with STDIN_CONTEXT; a `-` that is the
 * value of a flag (`-f -`, `-o -`) stays. A bare `--pull` becomes `--pull=always`. Only
 * `nbuild build …` and `nbuild [opts] CONTEXT`.
 */
export function normalizeBuildArgv(argv: readonly string[], otherCommands: readonly string[]): string[] {
  const valueFlags = flagsWithValues();
  const out = [...argv];
  let command: string | undefined;
  for (let i = 0; i < out.length; i++) {
    const a = out[i];
    if (a === '--') break;
    if (a === '--pull' && !PULL_WORDS.includes(out[i + 1] ?? '')) {
      out[i] = '--pull=always'; // bare --pull is a switch (buildx, podman): the next word is not its value
      continue;
    }
    if (a !== '-' && a.startsWith('-')) {
      if (valueFlags.has(a)) i++; // its value follows
      continue;
    }
    if (command === undefined && a !== '-') {
      command = a;
      if (a !== 'build' && otherCommands.includes(a)) return out;
      if (a === 'build') continue;
    }
    if (a === '-') out[i] = STDIN_CONTEXT;
  }
  return out;
}

/**
 * The build's options read from the table without yargs, for the command lines builds are
 * mostly started with: long flags and the table's aliases (`--tag x`, `--tag=x`, `-t x`), booleans
 * bare or `=true`/`=false`, the global `--root` and `--log-level`, at most one context. Anything
 * else gives undefined and goes to yargs, which then reports the error or reads the less common
 * form: `--help`, an unknown or refused flag, a value outside the choices or not a number, a
 * value that looks like a flag, a non-repeatable flag given twice, a boolean followed by a
 * `true`/`false` word, `--`, a second positional. The result has the keys and values yargs gives
 * the handler for the same line (test/cli/build-argv.test.ts compares them), less its
 * camel-case copies. Saves loading and running yargs (~20 ms of every build; docs/decisions.md,
 * "Start-up: a build's command line read from the option table").
 * `argv` is main()'s, after normalizeBuildArgv.
 */
export function readBuildArgv(argv: readonly string[]): Record<string, unknown> | undefined {
  const byFlag = new Map<string, { name: string; options: Options }>();
  const out: Record<string, unknown> = { _: [] as string[], 'log-level': 'info' };
  for (const o of BUILD_OPTIONS) {
    if (o.status !== 'implemented') continue;
    byFlag.set(`--${o.name}`, { name: o.name, options: o.yargs });
    if (o.alias) byFlag.set(`-${o.alias}`, { name: o.name, options: o.yargs });
    if (o.yargs.default !== undefined) out[o.name] = Array.isArray(o.yargs.default) ? [] : o.yargs.default;
  }
  byFlag.set('--root', { name: 'root', options: { type: 'string' } });
  byFlag.set('--log-level', { name: 'log-level', options: { type: 'string', choices: ['error', 'warn', 'info', 'debug'] } });
  const given = new Set<string>();
  let context: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (!word.startsWith('-') || word === '-') {
      if (word === 'build' && context === undefined && (out._ as string[]).length === 0) (out._ as string[]).push(word);
      else if (context === undefined) context = word;
      else return undefined;
      continue;
    }
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const known = byFlag.get(flag);
    if (!known) return undefined;
    const { name, options } = known;
    const repeatable = Array.isArray(options.default);
    if (given.has(name) && !repeatable) return undefined;
    given.add(name);
    if (options.type === 'boolean') {
      const value = eq > 0 ? word.slice(eq + 1) : undefined;
      if (value === undefined) {
        if (argv[i + 1] === 'true' || argv[i + 1] === 'false') return undefined;
        out[name] = true;
      } else if (value === 'true' || value === 'false') out[name] = value === 'true';
      else return undefined;
      continue;
    }
    const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '' || (value.startsWith('-') && value !== '-')) return undefined;
    if (options.choices && !(options.choices as unknown[]).includes(value)) return undefined;
    if (options.type === 'number') {
      if (!/^-?\d+$/.test(value)) return undefined;
      out[name] = Number(value);
    } else if (repeatable) (out[name] as string[]).push(value);
    else out[name] = value;
  }
  out.context = context ?? '.';
  return out;
}
