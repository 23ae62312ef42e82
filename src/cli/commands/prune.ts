// `nbuild prune [-a] [--keep-storage SIZE]`: dangling images, build cache and what
// nothing uses any more.
import type { Argv, CommandModule } from 'yargs';
import { resolveStoreRoot } from '../global-options.js';

interface PruneArgs {
  all: boolean;
  'keep-storage'?: string;
  root?: string;
}

export const pruneCommand: CommandModule<object, PruneArgs> = {
  command: 'prune',
  describe: 'remove dangling images, build cache, and blobs and layers nothing uses',
  builder: (y: Argv) =>
    y
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'also remove the unpacked copies of all layers (they are unpacked again when needed)' })
      .option('keep-storage', { type: 'string', describe: 'keep the most recently used build cache up to SIZE (e.g. 10GB)' }) as unknown as Argv<PruneArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { Store }, { prune }, { parseSize, humanSize }] = await Promise.all([
      import('../../sandbox/index.js'), import('../../store/store.js'), import('../../store/gc.js'), import('../../export/format.js'),
    ]);
    const keepStorage = args['keep-storage'] !== undefined ? parseSize(args['keep-storage']) : undefined;
    await enterUserNamespace();
    const store = await Store.open(resolveStoreRoot(args.root));
    const r = await prune(store, { all: args.all, keepStorage });
    for (const m of r.images) process.stdout.write(`Deleted: ${m}\n`);
    process.stdout.write(`${r.images.length} image(s), ${r.cacheRecords} cache record(s), ${r.blobs} blob(s), ${r.layers} unpacked layer(s) removed; ${humanSize(r.bytes)} of blobs reclaimed\n`);
    for (const n of r.notes) process.stderr.write(`nbuild: ${n}\n`);
  },
};
