// What a command module is: a yargs command that also says whether it runs as root of a user
// namespace. bin/nbuild's launcher enters the namespace before Node starts for those commands, from
// its own list (native/sandbox/launch.cc, kUsernsCommands); test/cli/userns-commands.test.ts
// checks that the two lists agree.
import type { CommandModule } from 'yargs';

export interface NbuildCommand<A> extends CommandModule<object, A> {
  /** The handler calls enterUserNamespace() (it changes unpacked layers or runs commands). */
  readonly userns: boolean;
}
