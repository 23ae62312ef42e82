// The list of sub-commands. One module per command under ./commands/, each loaded only when it
// runs (all of them for help and shell completion): `nbuild version` must not load the builder,
// the registry client and the store (their code and the Node built-ins they import are most of
// the start-up; docs/decisions.md, "Start-up: each command loads only its own code").
import type { Argv, CommandModule } from 'yargs';

type AnyCommand = CommandModule<object, object>;
// [name, loader]: the name is the first word of the module's `command` (test/cli/commands.test.ts
// checks that they agree).
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
  ['build', async () => (await import('./commands/build.js')).buildCommand],
  ['version', async () => (await import('./commands/version.js')).versionCommand],
  ['info', async () => (await import('./commands/info.js')).infoCommand],
  ['pull', async () => (await import('./commands/pull.js')).pullCommand],
  ['push', async () => (await import('./commands/push.js')).pushCommand],
  ['login', async () => (await import('./commands/login.js')).loginCommand],
  ['logout', async () => (await import('./commands/logout.js')).logoutCommand],
  ['check', async () => (await import('./commands/check.js')).checkCommand],
  ['load', async () => (await import('./commands/load.js')).loadCommand],
  ['save', async () => (await import('./commands/save.js')).saveCommand],
  ['images', async () => (await import('./commands/images.js')).imagesCommand],
  ['inspect', async () => (await import('./commands/inspect.js')).inspectCommand],
  ['history', async () => (await import('./commands/history.js')).historyCommand],
  ['tag', async () => (await import('./commands/tag.js')).tagCommand],
  ['rmi', async () => (await import('./commands/rmi.js')).rmiCommand],
  ['prune', async () => (await import('./commands/prune.js')).pruneCommand],
  ['store', async () => (await import('./commands/store.js')).storeCommand],
  ['run', async () => (await import('./commands/run.js')).runCommand],
  ['manifest', async () => (await import('./commands/manifest.js')).manifestCommand],
];

/** The sub-commands' names (the first word of each module's `command`), without loading them. */
export function commandNames(): string[] {
  return COMMANDS.map(([name]) => name);
}

/** The modules of the named commands (every command when `names` is undefined), in list order. */
export async function loadCommands(names?: readonly string[]): Promise<AnyCommand[]> {
  const wanted = COMMANDS.filter(([name]) => names === undefined || names.includes(name));
  return (await Promise.all(wanted.map(([, load]) => load()))) as AnyCommand[];
}

/** Adds the given sub-commands to the parser (each module keeps its own argument type). */
export function registerCommands(parser: Argv<object>, commands: readonly AnyCommand[]): Argv<object> {
  for (const command of commands) parser = parser.command(command);
  return parser;
}
