// `nbuild pull IMAGE`: fetch an image from its registry into the store; prints the digest.
import type { Argv, CommandModule } from 'yargs';
import { resolveStoreRoot } from '../global-options.js';
import { UsageError } from '../../errors.js';
import { Image } from '../../image/image.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';
import { PROGRESS_OPTION, transferReporter } from '../progress.js';

interface PullArgs extends RegistryArgs {
  image: string;
  platform?: string;
  'all-platforms': boolean;
  quiet: boolean;
  progress?: string;
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
      .option('progress', PROGRESS_OPTION)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PullArgs>,
  handler: async (args) => {
    const [{ Store }, { pullAny: pullImage }, { parsePlatform, formatPlatform }, { parseReference }, { pullProgress }, { interruptSignal }] = await Promise.all([
      import('../../store/store.js'), import('../../registry/pull.js'), import('../../registry/platform.js'), import('../../image/reference.js'),
      import('../../executor/transfer-progress.js'), import('../../interrupt.js'),
    ]);
    const ref = parseReference(args.image);
    const store = await Store.open(resolveStoreRoot(args.root));
    const platform = args.platform ? parsePlatform(args.platform) : undefined;
    if (args['all-platforms'] && platform) throw new UsageError('--all-platforms and --platform: give one');
    const { reporter, task, text } = transferReporter(args.progress, args.quiet, `pulling ${ref.toString()}`);
    const log = (s: string) => {
      if (text) process.stderr.write(`${s}\n`);
    };
    // A signal stops the pull (its temp files removed) and exits 128+N: src/interrupt.ts.
    const signal = interruptSignal();
    const blobs = pullProgress(task);
    const image = await task
      .run(() =>
        pullImage(store, ref, {
          platform,
          allPlatforms: args['all-platforms'],
          ...sessionOptions(args),
          signal,
          onProgress: (e) => {
            if (e.kind === 'resolved') reporter({ type: 'info', message: `${e.reference}: ${e.digest} from ${e.source}` });
            else blobs(e);
          },
        }),
      )
      .finally(() => reporter.close());
    if (image instanceof Image) {
      log(`pulled ${ref.toString()} (${formatPlatform(image.config)})`);
      process.stdout.write(`${image.manifestDigest.toString()}\n`);
    } else {
      log(`pulled ${ref.toString()} (${image.platforms().join(', ')})`);
      process.stdout.write(`${image.digest.toString()}\n`);
    }
  },
};
