// `nbuild rmi IMAGE... [-f]`: unname and delete images; layers other images or the
// build cache use are kept.
import type { Argv, CommandModule } from 'yargs';
import { resolveStoreRoot } from '../global-options.js';

interface RmiArgs {
  images: string[];
  force: boolean;
  root?: string;
}

export const rmiCommand: CommandModule<object, RmiArgs> = {
  command: 'rmi <images..>',
  describe: 'remove images (a layer is deleted only when nothing else uses it)',
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'remove an image by id even if it has several names or is the base of another image' }) as unknown as Argv<RmiArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { Store }, { removeImages }] = await Promise.all([import('../../sandbox/index.js'), import('../../store/store.js'), import('../../store/gc.js')]);
    await enterUserNamespace();
    const store = await Store.open(resolveStoreRoot(args.root));
    const { lines, gc } = await removeImages(store, args.images, args.force);
    for (const l of lines) process.stdout.write(`${l}\n`);
    for (const n of gc.notes) process.stderr.write(`nbuild: ${n}\n`);
  },
};
