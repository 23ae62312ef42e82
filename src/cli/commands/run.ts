// `nbuild run [options] IMAGE [CMD...]`: one command in an image, rootless, isolated like RUN.
// Everything after IMAGE belongs to the command (`nbuild run img sh -c 'ls -l'`), so yargs stops
// at the first non-option and the run options are read here by parseRunArgv.
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { constants as osConstants } from 'node:os';
import { isNbuildError, NbuildError, UsageError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';
import { enterUserNamespace } from '../../sandbox/index.js';
import { interruptSignal } from '../../interrupt.js';
import type { NbuildCommand } from '../command.js';
import { isolationOption } from '../run-isolation.js';
import type { IsolationMode } from '../../snapshot/ladder.js';

export interface RunArgv {
  image: string;
  command: string[];
  rm: boolean;
  interactive: boolean;
  env: string[];
  user?: string;
  workdir?: string;
  entrypoint?: string;
  network: 'host' | 'none';
  isolation?: 'overlay' | 'copy' | 'chroot';
  root?: string;
  help: boolean;
}

type ValueKey = 'env' | 'user' | 'workdir' | 'entrypoint' | 'network' | 'isolation' | 'root' | 'logLevel';

const VALUE_FLAGS: Record<string, ValueKey> = {
  '-e': 'env',
  '--env': 'env',
  '-u': 'user',
  '--user': 'user',
  '-w': 'workdir',
  '--workdir': 'workdir',
  '--entrypoint': 'entrypoint',
  '--network': 'network',
  '--isolation': 'isolation',
  '--root': 'root',
  '--log-level': 'logLevel', // accepted and ignored here: main() reads it from the raw argv
};

function setValue(out: RunArgv, key: ValueKey, flag: string, value: string): void {
  switch (key) {
    case 'env':
      out.env.push(value);
      return;
    case 'network':
      if (value !== 'host' && value !== 'none') throw new UsageError(`${flag} ${value}: use host or none`);
      out.network = value;
      return;
    case 'isolation':
      if (value !== 'overlay' && value !== 'copy' && value !== 'chroot') throw new UsageError(`${flag} ${value}: use overlay, copy or chroot`);
      out.isolation = value;
      return;
    case 'user':
    case 'workdir':
    case 'entrypoint':
    case 'root':
      out[key] = value;
      return;
    case 'logLevel':
      return;
  }
}

/** Docker's run syntax: options, then IMAGE, then the command untouched. */
export function parseRunArgv(tokens: readonly string[]): RunArgv {
  const out: RunArgv = { image: '', command: [], rm: false, interactive: false, env: [], network: 'host', help: false };
  let i = 0;
  for (; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok === '--') {
      i++;
      break;
    }
    if (!tok.startsWith('-') || tok === '-') break;
    const eq = tok.indexOf('=');
    const flag = tok.startsWith('--') && eq > 0 ? tok.slice(0, eq) : tok;
    if (flag === '--rm') out.rm = true;
    else if (flag === '-i' || flag === '--interactive') out.interactive = true;
    else if (flag === '-h' || flag === '--help') out.help = true;
    else if (flag in VALUE_FLAGS) {
      let value: string | undefined;
      if (flag !== tok) value = tok.slice(eq + 1);
      else if (i + 1 < tokens.length) value = tokens[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      setValue(out, VALUE_FLAGS[flag], flag, value);
    } else throw new UsageError(`nbuild run: unknown option ${tok}`);
  }
  if (!out.help) {
    if (i >= tokens.length) throw new UsageError('nbuild run: name an image: nbuild run [options] IMAGE [CMD...]');
    out.image = tokens[i];
    out.command = tokens.slice(i + 1);
  }
  return out;
}

const USAGE = `nbuild run [options] IMAGE [CMD...]

Run one command in an image, rootless, isolated the way a RUN step is (user, PID, mount, IPC,
UTS namespaces; the host's network or none). The command is CMD if given, else the image's Cmd,
after the image's Entrypoint; it gets the image's Env, WorkingDir and User. nbuild exits with the
command's exit code (128+N when killed by signal N; 125 when nbuild itself fails).

There is no container store: the container's file changes are always thrown away when the
command ends, with or without --rm (accepted for Docker compatibility).

Options:
  --rm                    remove the container afterwards (always done)
  -i, --interactive       pass stdin to the command (default: stdin is /dev/null)
  -e, --env K=V           set an environment variable (repeatable); -e K takes it from here
  -u, --user USER         run as USER (name, uid, name:group or uid:gid) instead of the image's
  -w, --workdir DIR       working directory instead of the image's
      --entrypoint CMD    replace the image's Entrypoint ("" clears it; drops the image's Cmd)
      --network host|none the host's network (default) or only a loopback
      --isolation MODE    overlay, copy or chroot (default: the best this host allows)
      --root DIR          the store folder
`;

interface RunCommandArgs {
  '--'?: (string | number)[];
  root?: string;
}

export const runCommand: NbuildCommand<RunCommandArgs> = {
  userns: true,
  command: 'run [image] [command..]',
  describe: 'run a command in an image (rootless; changes are discarded)',
  builder: (y: Argv) =>
    // Stop at the first non-option ("run" itself), so the command's own flags stay its own.
    y.parserConfiguration({ 'boolean-negation': false, 'halt-at-non-option': true, 'populate--': true, 'parse-numbers': false, 'parse-positional-numbers': false }) as unknown as Argv<RunCommandArgs>,
  handler: async (argv: ArgumentsCamelCase<RunCommandArgs>) => {
    // yargs may still hand numbers back (`-u 0`): the command's argv is strings only.
    const tokens = (argv['--'] ?? []).map(String);
    const at = tokens.indexOf('run');
    const opts = parseRunArgv(at >= 0 ? tokens.slice(at + 1) : tokens);
    if (opts.help) {
      process.stdout.write(USAGE);
      return;
    }
    const isolation = isolationOption(opts.isolation);
    await enterUserNamespace();
    process.exitCode = await runInNamespace(opts, opts.root ?? argv.root, isolation);
  },
};

async function runInNamespace(opts: RunArgv, root: string | undefined, isolation: IsolationMode | undefined): Promise<number> {
  const { runImage } = await import('../../run-image.js');
  const signal = interruptSignal(); // a signal stops the command and exits 128+N
  try {
    const result = await runImage({
      storeRoot: resolveStoreRoot(root),
      image: opts.image,
      command: opts.command,
      entrypoint: opts.entrypoint,
      env: opts.env,
      user: opts.user,
      workdir: opts.workdir,
      network: opts.network,
      isolation,
      interactive: opts.interactive,
      onStdout: (c) => process.stdout.write(c),
      onStderr: (c) => process.stderr.write(c),
      signal,
    });
    if (result.signal) return 128 + (osConstants.signals[result.signal as NodeJS.Signals] ?? 0);
    return result.exitCode;
  } catch (e) {
    if (signal.aborted && isNbuildError(signal.reason)) throw signal.reason;
    // Docker's convention: 125 means "nbuild failed", so it cannot be mistaken for the command's status.
    if (isNbuildError(e) && e.exitCode === 1) throw new NbuildError(e.code, e.message, { cause: e, exitCode: 125 });
    throw e;
  }
}
