// The list of sub-commands. One module per command under ./commands/.
import type { CommandModule } from 'yargs';
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [buildCommand, versionCommand, infoCommand, pullCommand, pushCommand, loginCommand, logoutCommand, checkCommand, loadCommand, saveCommand, imagesCommand, inspectCommand, historyCommand, tagCommand, rmiCommand, pruneCommand, storeCommand, runCommand];
