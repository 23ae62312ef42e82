import type { CommandModule } from 'yargs';
import { nbuildVersion } from '../../package-root.js';

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    process.stdout.write(`nbuild ${nbuildVersion()}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`);
  },
};
