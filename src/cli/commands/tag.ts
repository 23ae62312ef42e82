// `nbuild tag SRC DST...`: more names for an image.
import type { Argv, CommandModule } from 'yargs';
import { NbuildError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';

interface TagArgs {
  source: string;
  targets: string[];
  root?: string;
}

export const tagCommand: CommandModule<object, TagArgs> = {
  command: 'tag <source> <targets..>',
  describe: 'give an image more names',
  builder: (y: Argv) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'name or id of the image' })
      .positional('targets', { type: 'string', array: true, demandOption: true, describe: 'new names' }) as unknown as Argv<TagArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { Store }, { parseReference }] = await Promise.all([import('../../sandbox/index.js'), import('../../store/store.js'), import('../../image/reference.js')]);
    for (const t of args.targets) {
      if (parseReference(t).digest) throw new NbuildError('USAGE', `cannot tag with a digest: ${t}`, { exitCode: 2 });
    }
    await enterUserNamespace();
    const store = await Store.open(resolveStoreRoot(args.root));
    const image = await store.getImageOrIndex(args.source); // an index is tagged whole
    if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${args.source}`);
    for (const t of args.targets) await store.tag(t, image);
  },
};
