// The nbuild command line: a thin yargs adapter over the programmatic API.
// Each command lives in its own module (src/cli/commands/*.ts) and is listed in
// src/cli/commands.ts. `nbuild` with no sub-command is `nbuild build`.
import yargs from 'yargs';
import { commands } from './commands.js';
import { reportError } from './report-error.js';
import { globalOptions } from './global-options.js';

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
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
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`nbuild: ${msg}\n\n${'Run with --help for usage.'}\n`);
      void y;
      process.exit(2);
    });
  for (const command of commands) parser.command(command);
  const logLevel = argv.includes('--log-level=debug') || argv.join(' ').includes('--log-level debug') ? 'debug' : 'info';
  try {
    await parser.parseAsync();
  } catch (error) {
    process.exitCode = reportError(error, logLevel === 'debug');
  }
}
