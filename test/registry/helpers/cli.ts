// Runs only the registry commands through yargs, as src/cli/main.ts does, so these tests
// do not depend on every other command of the tree loading. Usage: node cli.js ARGS...
import yargs from 'yargs';
import { globalOptions } from '../../../src/cli/global-options.js';
import { reportError } from '../../../src/cli/report-error.js';
import { loginCommand } from '../../../src/cli/commands/login.js';
import { logoutCommand } from '../../../src/cli/commands/logout.js';
import { pullCommand } from '../../../src/cli/commands/pull.js';
import { pushCommand } from '../../../src/cli/commands/push.js';

const argv = process.argv.slice(2);
const parser = yargs(argv).scriptName('nbuild').options(globalOptions).strict().demandCommand(1)
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(`nbuild: ${msg}\n`);
    process.exit(2);
  });
for (const c of [pullCommand, pushCommand, loginCommand, logoutCommand]) parser.command(c as never);
try {
  await parser.parseAsync();
} catch (error) {
  process.exitCode = reportError(error, false);
}
