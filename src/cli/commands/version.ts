import type { CommandModule } from 'yargs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    const pkg = require('../../../../package.json') as { version: string };
    process.stdout.write(`nbuild ${pkg.version}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`);
  },
};
