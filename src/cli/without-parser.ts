// Commands run without the argument parser: a command that takes no options and no arguments,
// given as its bare name (`nbuild version`), needs neither yargs (~20 ms to load and set up) nor
// the rest of the CLI. bin/start.cjs runs this module from its own small bundle
// (dist/without-parser.cjs, scripts/bundle.mjs) before it reads the CLI bundle, and main() asks it
// first too; anything else (other words, any option, `--help`) goes to yargs, which runs the same
// handlers (docs/decisions.md, "Start-up: commands without options skip the parser").
// Static imports only: everything this module imports is read by every command.
import type { NbuildCommand } from './command.js';
import { versionCommand } from './commands/version.js';
import { reportError } from './report-error.js';

/** The commands that may run without the parser (test/cli/commands.test.ts: none has a builder). */
export const COMMANDS_WITHOUT_PARSER: readonly NbuildCommand<object>[] = [versionCommand];

/** Runs the command when `argv` is just the name of one of them; false when the parser must run. */
export function runWithoutParser(argv: readonly string[]): boolean {
  if (argv.length !== 1) return false;
  const command = COMMANDS_WITHOUT_PARSER.find((c) => c.command === argv[0]);
  if (!command) return false;
  // As main() does with yargs' parseAsync: an error is one line and an exit status.
  const fail = (error: unknown) => (process.exitCode = reportError(error, false));
  try {
    void Promise.resolve(command.handler({ _: [argv[0]], $0: 'nbuild' })).catch(fail);
  } catch (error) {
    fail(error);
  }
  return true;
}
