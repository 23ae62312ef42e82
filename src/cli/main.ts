// The nbuild command line: a thin yargs adapter over the programmatic API.
// Each command lives in its own module (src/cli/commands/*.ts) and is listed in
// src/cli/commands.ts. `nbuild` with no sub-command is `nbuild build`.
import { reportError } from './report-error.js';
import { installSignalHandlers } from '../interrupt.js';
import { trace } from '../trace.js';
import { dropBuildxPrefix } from './buildx-alias.js';
import { runWithoutParser } from './without-parser.js';
import { takeDeferredCaCerts } from '../registry/trust.js';
import { reportExitToLauncher } from './launcher-channel.js';
import type { Argv } from 'yargs';

// Commands that need the user namespace call enterUserNamespace() in their handlers; bin/nbuild's
// native launcher has normally entered it before Node started (native/sandbox/launch.cc).

export async function main(argv: string[]): Promise<void> {
  // `nbuild version` and the like: no parser, no signal handlers (bin/start.cjs asks first).
  if (runWithoutParser(argv)) return;
  try {
    await run(argv);
  } finally {
    // Once everything is done: the launcher need not wait for Node's teardown.
    reportExitToLauncher();
  }
}

async function run(argv: string[]): Promise<void> {
  takeDeferredCaCerts();
  // Before any work: a signal at start-up must end the command, not be lost (src/interrupt.ts).
  installSignalHandlers();
  trace('cli: main');
  const [{ registerCommands, commandNames, loadCommands }, { normalizeBuildArgv, commandWord, readBuildArgv }] = await Promise.all([
    import('./commands.js'),
    import('./build-options.js'),
  ]);
  argv = normalizeBuildArgv(dropBuildxPrefix(argv), commandNames());
  // yargs renders (and caches) the help text of the command it runs on every invocation;
  // wrapping it costs ~60 ms of string-width work, so wrap only when help is asked for.
  const wantsHelp = argv.length === 0 || argv.some((a) => a === '--help' || a === '-h' || a === 'help');
  // Only the command that runs is loaded (src/cli/commands.ts); help and shell completion list
  // them all.
  const word = commandWord(argv, [...commandNames(), 'completion']);
  const logLevel = argv.includes('--log-level=debug') || argv.join(' ').includes('--log-level debug') ? 'debug' : 'info';
  // A build's usual command line is read from the option table, without yargs (readBuildArgv).
  const buildArgv = word === 'build' && !wantsHelp ? readBuildArgv(argv) : undefined;
  if (buildArgv) {
    const [build] = await loadCommands(['build']);
    trace('cli: command loaded (without the parser)');
    try {
      await build?.handler(buildArgv as never);
    } catch (error) {
      process.exitCode = reportError(error, logLevel === 'debug');
    }
    return;
  }
  const everything = wantsHelp || word === 'completion' || argv.includes('--get-yargs-completions');
  const [commands, parser] = await Promise.all([loadCommands(everything ? undefined : [word]), cliParser(argv, wantsHelp)]);
  trace('cli: command loaded');
  registerCommands(parser, commands);
  try {
    await parser.parseAsync();
  } catch (error) {
    process.exitCode = reportError(error, logLevel === 'debug');
  }
}

/** The yargs parser of every command line readBuildArgv does not read, without its commands. */
export async function cliParser(argv: string[], wantsHelp: boolean): Promise<Argv<object>> {
  const [{ default: yargs }, { globalOptions }] = await Promise.all([import('yargs'), import('./global-options.js')]);
  return yargs(argv)
    .scriptName('nbuild')
    // `--no-cache` is a flag of its own, not the negation of `--cache`.
    .parserConfiguration({ 'boolean-negation': false })
    .usage('$0 [command] [options]\n\nRootless, daemonless container image builder.')
    .options(globalOptions)
    .strict()
    .demandCommand(1, 'name a command, or give a context: nbuild -f Dockerfile .')
    .recommendCommands()
    .completion('completion', 'print a shell completion script')
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(wantsHelp ? Math.min(110, process.stdout.columns || 100) : null)
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`nbuild: ${msg}\n\n${'Run with --help for usage.'}\n`);
      void y;
      process.exit(2);
    });
}
