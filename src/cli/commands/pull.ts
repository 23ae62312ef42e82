// `nbuild pull IMAGE`: fetch an image from its registry into the store; prints the digest.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';
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
      .option('progress', PROGRESS_OPTION)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PullArgs>,
  handler: async (args) => {
    const [{ pullImage }, { parseReference }, { pullProgress }, { interruptSignal }] = await Promise.all([
      import('../../images/pull.js'), import('../../image/reference.js'), import('../../executor/transfer-progress.js'), import('../../interrupt.js'),
    ]);
    const { reporter, task, text } = transferReporter(args.progress, args.quiet, `pulling ${parseReference(args.image).toString()}`);
    const log = (s: string) => {
      if (text) process.stderr.write(`${s}\n`);
    };
    // A signal stops the pull (its temp files removed) and exits 128+N: src/interrupt.ts.
    const signal = interruptSignal();
    const blobs = pullProgress(task);
    const pulled = await task
      .run(() =>
        pullImage({
          storeRoot: resolveStoreRoot(args.root),
          reference: args.image,
          platform: args.platform,
          allPlatforms: args['all-platforms'],
          registry: sessionOptions(args),
          signal,
          onProgress: (e) => {
            if (e.kind === 'resolved') reporter({ type: 'info', message: `${e.reference}: ${e.digest} from ${e.source}` });
            else blobs(e);
          },
        }),
      )
      .finally(() => reporter.close());
    log(`pulled ${pulled.reference} (${pulled.platforms.join(', ')})`);
    process.stdout.write(`${pulled.digest}\n`);
  },
};
