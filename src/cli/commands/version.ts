import type { NbuildCommand } from '../command.js';
import { nbuildVersion } from '../../package-root.js';
import { stdout } from '../../stdio.js';

export const versionCommand: NbuildCommand<object> = {
  command: 'version',
  userns: false,
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    // Not through process.stdout, whose first use costs as much as the rest of the command (stdio.ts).
    stdout.write(`nbuild ${nbuildVersion()}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`);
  },
};
