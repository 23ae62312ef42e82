import type { CommandModule } from 'yargs';
import { createRequire } from 'node:module';
import { packagePath } from '../../package-root.js';

const require = createRequire(import.meta.url);

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'print the versions of nbuild, Node.js and the native engine',
  handler: () => {
    const pkg = require(packagePath('package.json')) as { version: string };
    process.stdout.write(`nbuild ${pkg.version}\nnode ${process.version}\nplatform ${process.platform}/${process.arch}\n`);
  },
};
