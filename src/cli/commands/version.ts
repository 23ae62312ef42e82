import type { NbuildCommand } from '../command.js';
import { nbuildVersion } from '../../package-root.js';

export const versionCommand: NbuildCommand<object> = {
  command: 'version',
  userns: false,
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    process.stdout.write(`nbuild ${nbuildVersion()}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`);
  },
};
