// The list of sub-commands. One module per command under ./commands/.
import type { Argv } from 'yargs';
import { versionCommand } from './commands/version.js';
import { infoCommand } from './commands/info.js';
import { buildCommand } from './commands/build.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { checkCommand } from './commands/check.js';
import { loadCommand } from './commands/load.js';
import { saveCommand } from './commands/save.js';
import { imagesCommand } from './commands/images.js';
import { inspectCommand } from './commands/inspect.js';
import { historyCommand } from './commands/history.js';
import { tagCommand } from './commands/tag.js';
import { rmiCommand } from './commands/rmi.js';
import { pruneCommand } from './commands/prune.js';
import { storeCommand } from './commands/store.js';
import { runCommand } from './commands/run.js';

/** Adds every sub-command to the parser (each module keeps its own argument type). */
export function registerCommands(parser: Argv<object>): Argv<object> {
  return parser
    .command(buildCommand)
    .command(versionCommand)
    .command(infoCommand)
    .command(pullCommand)
    .command(pushCommand)
    .command(loginCommand)
    .command(logoutCommand)
    .command(checkCommand)
    .command(loadCommand)
    .command(saveCommand)
    .command(imagesCommand)
    .command(inspectCommand)
    .command(historyCommand)
    .command(tagCommand)
    .command(rmiCommand)
    .command(pruneCommand)
    .command(storeCommand)
    .command(runCommand);
}
