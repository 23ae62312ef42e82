// `nbuild rmi IMAGE... [-f]`: unname and delete images; layers other images or the
// build cache use are kept.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface RmiArgs {
  images: string[];
  force: boolean;
  root?: string;
}

export const rmiCommand: NbuildCommand<RmiArgs> = {
  command: 'rmi <images..>',
  userns: true,
  describe: 'remove images (a layer is deleted only when nothing else uses it)',
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'remove an image by id even if it has several names or is the base of another image' }) as unknown as Argv<RmiArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { removeImages }] = await Promise.all([import('../../sandbox/index.js'), import('../../images/remove.js')]);
    await enterUserNamespace();
    const { lines, gc } = await removeImages({ storeRoot: resolveStoreRoot(args.root), images: args.images, force: args.force });
    for (const l of lines) process.stdout.write(`${l}\n`);
    for (const n of gc.notes) process.stderr.write(`nbuild: ${n}\n`);
  },
};
