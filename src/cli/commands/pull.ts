// `nbuild pull IMAGE`: fetch an image from its registry into the store; prints the digest.
import type { Argv, CommandModule } from 'yargs';
import { resolveStoreRoot } from '../global-options.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';

interface PullArgs extends RegistryArgs {
  image: string;
  platform?: string;
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
      .options(registryOptions)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PullArgs>,
  handler: async (args) => {
    const [{ Store }, { pullImage }, { parsePlatform, formatPlatform }, { parseReference }] = await Promise.all([
      import('../../store/store.js'), import('../../registry/pull.js'), import('../../registry/platform.js'), import('../../image/reference.js'),
    ]);
    const ref = parseReference(args.image);
    const store = await Store.open(resolveStoreRoot(args.root));
    const platform = args.platform ? parsePlatform(args.platform) : undefined;
    const log = (s: string) => {
      if (!args.quiet) process.stderr.write(`${s}\n`);
    };
    const image = await pullImage(store, ref, {
      platform,
      ...sessionOptions(args),
      onProgress: (e) => {
        if (e.kind === 'resolved') log(`${e.reference}: ${e.digest} from ${e.source}`);
        else if (e.kind === 'blob') log(`${e.digest.slice(7, 19)}: ${e.cached ? 'already in the store' : `fetching ${e.size} bytes`}`);
      },
    });
    log(`pulled ${ref.toString()} (${formatPlatform(image.config)})`);
    process.stdout.write(`${image.manifestDigest.toString()}\n`);
  },
};
