// The list of sub-commands. One module per command under ./commands/.
import type { Argv, CommandModule } from 'yargs';
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
import { manifestCommand } from './commands/manifest.js';

const COMMANDS = [buildCommand, versionCommand, infoCommand, pullCommand, pushCommand, loginCommand, logoutCommand, checkCommand, loadCommand,
  saveCommand, imagesCommand, inspectCommand, historyCommand, tagCommand, rmiCommand, pruneCommand, storeCommand, runCommand, manifestCommand] as const;

/** The sub-commands' names (the first word of each module's `command`). */
export function commandNames(filter: (c: { readonly userns: boolean }) => boolean = () => true): string[] {
  return COMMANDS.filter(filter).flatMap((c) => (Array.isArray(c.command) ? c.command : [c.command]))
    .map((c) => String(c).split(' ')[0])
    .filter((n) => n !== '$0');
}

/** The commands whose handlers enter the user namespace (native/sandbox/launch.cc must list the same). */
export function usernsCommandNames(): string[] {
  return commandNames((c) => c.userns);
}

/** Adds every sub-command to the parser (each module keeps its own argument type). */
export function registerCommands(parser: Argv<object>): Argv<object> {
  for (const command of COMMANDS) parser = parser.command(command as unknown as CommandModule<object, object>);
  return parser;
}
