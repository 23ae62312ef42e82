// `nbuild pull IMAGE`: fetch an image from its registry into the store; prints the digest.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';

interface PullArgs extends RegistryArgs {
  image: string;
  platform?: string;
  'all-platforms': boolean;
  quiet: boolean;
  root?: string;
}

export const pullCommand: NbuildCommand<PullArgs> = {
  command: 'pull <image>',
  userns: false,
  describe: 'pull an image from a registry into the local store',
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'NAME[:TAG|@DIGEST]' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform image (default: this host)' })
      .option('all-platforms', { type: 'boolean', default: false, describe: 'pull every platform of a multi-platform image, kept as one index' })
      .options(registryOptions)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PullArgs>,
  handler: async (args) => {
    const { pullImage } = await import('../../images/pull.js');
    const log = (s: string) => {
      if (!args.quiet) process.stderr.write(`${s}\n`);
    };
    const pulled = await pullImage({
      storeRoot: resolveStoreRoot(args.root),
      reference: args.image,
      platform: args.platform,
      allPlatforms: args['all-platforms'],
      registry: sessionOptions(args),
      onProgress: (e) => {
        if (e.kind === 'resolved') log(`${e.reference}: ${e.digest} from ${e.source}`);
        else if (e.kind === 'blob') log(`${e.digest.slice(7, 19)}: ${e.cached ? 'already in the store' : `fetching ${e.size} bytes`}`);
      },
    });
    log(`pulled ${pulled.reference} (${pulled.platforms.join(', ')})`);
    process.stdout.write(`${pulled.digest}\n`);
  },
};
