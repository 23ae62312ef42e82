// `nbuild pull IMAGE`: fetch an image from its registry into the store; prints the digest.
import type { Argv, CommandModule } from 'yargs';
import { resolveStoreRoot } from '../global-options.js';
import { UsageError } from '../../errors.js';
import { Image } from '../../image/image.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';

interface PullArgs extends RegistryArgs {
  image: string;
  platform?: string;
  'all-platforms': boolean;
  quiet: boolean;
  root?: string;
}

export const pullCommand: CommandModule<object, PullArgs> = {
  command: 'pull <image>',
  describe: 'pull an image from a registry into the local store',
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'NAME[:TAG|@DIGEST]' })
      .option('platform', { type: 'string', describe: 'os/arch[/variant] to pick from a multi-platform image (default: this host)' })
      .option('all-platforms', { type: 'boolean', default: false, describe: 'pull every platform of a multi-platform image, kept as one index' })
      .options(registryOptions)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PullArgs>,
  handler: async (args) => {
    const [{ Store }, { pullAny: pullImage }, { parsePlatform, formatPlatform }, { parseReference }] = await Promise.all([
      import('../../store/store.js'), import('../../registry/pull.js'), import('../../registry/platform.js'), import('../../image/reference.js'),
    ]);
    const ref = parseReference(args.image);
    const store = await Store.open(resolveStoreRoot(args.root));
    const platform = args.platform ? parsePlatform(args.platform) : undefined;
    if (args['all-platforms'] && platform) throw new UsageError('--all-platforms and --platform: give one');
    const log = (s: string) => {
      if (!args.quiet) process.stderr.write(`${s}\n`);
    };
    const image = await pullImage(store, ref, {
      platform,
      allPlatforms: args['all-platforms'],
      ...sessionOptions(args),
      onProgress: (e) => {
        if (e.kind === 'resolved') log(`${e.reference}: ${e.digest} from ${e.source}`);
        else if (e.kind === 'blob') log(`${e.digest.slice(7, 19)}: ${e.cached ? 'already in the store' : `fetching ${e.size} bytes`}`);
      },
    });
    if (image instanceof Image) {
      log(`pulled ${ref.toString()} (${formatPlatform(image.config)})`);
      process.stdout.write(`${image.manifestDigest.toString()}\n`);
    } else {
      log(`pulled ${ref.toString()} (${image.platforms().join(', ')})`);
      process.stdout.write(`${image.digest.toString()}\n`);
    }
  },
};
