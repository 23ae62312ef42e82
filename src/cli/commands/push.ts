// `nbuild push IMAGE [DEST]`: upload a stored image to a registry; prints the manifest digest.
import type { Argv, CommandModule } from 'yargs';
import { NbuildError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';
import { PROGRESS_OPTION, transferReporter } from '../progress.js';

interface PushArgs extends RegistryArgs {
  image: string;
  dest?: string;
  quiet: boolean;
  progress?: string;
  'digestfile'?: string;
  root?: string;
}

export const pushCommand: CommandModule<object, PushArgs> = {
  command: 'push <image> [dest]',
  describe: 'push an image from the local store to a registry (DEST defaults to IMAGE)',
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'a stored image: name, id or digest' })
      .positional('dest', { type: 'string', describe: 'where to push: REGISTRY/NAME[:TAG]' })
      .options(registryOptions)
      .option('digestfile', { type: 'string', describe: 'also write the pushed digest to this file' })
      .option('progress', PROGRESS_OPTION)
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PushArgs>,
  handler: async (args) => {
    const [{ Store }, { pushImage, pushIndex }, { ImageIndex }, fs, { pushProgress }, { interruptSignal }] = await Promise.all([
      import('../../store/store.js'), import('../../registry/push.js'), import('../../image/image-index.js'), import('node:fs/promises'),
      import('../../executor/transfer-progress.js'), import('../../interrupt.js'),
    ]);
    const store = await Store.open(resolveStoreRoot(args.root));
    const image = await store.getImageOrIndex(args.image);
    if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no image ${args.image} in the local store`);
    const dest = args.dest ?? args.image;
    const push = image instanceof ImageIndex
      ? async (d: string, o: Parameters<typeof pushImage>[3]) => pushIndex(store, image, await store.entryImages(image.digest), d, o)
      : (d: string, o: Parameters<typeof pushImage>[3]) => pushImage(store, image, d, o);
    const { reporter, task } = transferReporter(args.progress, args.quiet, `pushing ${dest}`);
    // A signal stops the push (no manifest is put) and exits 128+N: src/interrupt.ts.
    const signal = interruptSignal();
    const blobs = pushProgress(task);
    const { digest } = await task
      .run(() =>
        push(dest, {
          ...sessionOptions(args),
          signal,
          onProgress: (e) => {
            if (e.kind === 'manifest') reporter({ type: 'info', message: `pushed ${e.reference}` });
            else blobs(e);
          },
        }),
      )
      .finally(() => reporter.close());
    if (args.digestfile) await fs.writeFile(args.digestfile, `${digest}\n`);
    process.stdout.write(`${digest}\n`);
  },
};
