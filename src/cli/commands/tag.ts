// `nbuild tag SRC DST...`: more names for an image.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface TagArgs {
  source: string;
  targets: string[];
  root?: string;
}

export const tagCommand: NbuildCommand<TagArgs> = {
  command: 'tag <source> <targets..>',
  // Names only; in the namespace as the other commands that change the store (the launcher enters it anyway).
  userns: true,
  describe: 'give an image more names',
  builder: (y: Argv) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'name or id of the image' })
      .positional('targets', { type: 'string', array: true, demandOption: true, describe: 'new names' }) as unknown as Argv<TagArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { tagImage }] = await Promise.all([import('../../sandbox/index.js'), import('../../images/tag.js')]);
    await enterUserNamespace();
    await tagImage({ storeRoot: resolveStoreRoot(args.root), source: args.source, targets: args.targets });
  },
};
