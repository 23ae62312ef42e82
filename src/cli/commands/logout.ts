// `nbuild logout REGISTRY`: remove the stored credentials for a registry.
import type { Argv } from 'yargs';
import { NbuildError } from '../../errors.js';
import { normaliseRegistry } from './login.js';
import type { NbuildCommand } from '../command.js';

interface LogoutArgs {
  registry: string;
  authfile?: string;
}

export const logoutCommand: NbuildCommand<LogoutArgs> = {
  userns: false,
  command: 'logout <registry>',
  describe: 'remove the stored credentials for a registry',
  builder: (y: Argv) =>
    y
      .positional('registry', { type: 'string', demandOption: true, describe: 'registry host[:port]' })
      .option('authfile', { type: 'string', describe: 'auth file to edit (default: the one login writes)' }) as unknown as Argv<LogoutArgs>,
  handler: async (args) => {
    const { storeCredentials, defaultAuthFile, loginKey, lookupCredentials, authFilePaths } = await import('../../registry/auth-config.js');
    const registry = normaliseRegistry(args.registry);
    const file = args.authfile ?? defaultAuthFile();
    const removed = await storeCredentials(file, loginKey(registry), undefined);
    if (!removed) throw new NbuildError('NOT_LOGGED_IN', `not logged in to ${registry} (in ${file})`);
    process.stdout.write(`Removed login credentials for ${registry}\n`);
    const others = authFilePaths().filter((f) => f !== file);
    if (await lookupCredentials(registry, undefined, others).catch(() => undefined)) {
      process.stderr.write(`note: other credentials for ${registry} remain in ${others.join(' or ')} (or a credential helper)\n`);
    }
  },
};
