// The list of sub-commands. One module per command under ./commands/.
import type { CommandModule } from 'yargs';
import { versionCommand } from './commands/version.js';
import { buildCommand } from './commands/build.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [buildCommand, versionCommand];
