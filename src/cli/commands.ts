// The list of sub-commands. One module per command under ./commands/.
import type { CommandModule } from 'yargs';
import { versionCommand } from './commands/version.js';
import { buildCommand } from './commands/build.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [buildCommand, versionCommand, pullCommand, pushCommand, loginCommand, logoutCommand];
