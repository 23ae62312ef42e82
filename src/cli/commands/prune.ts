// `nbuild prune [-a] [--keep-storage SIZE]`: dangling images, build cache and what
// nothing uses any more.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface PruneArgs {
  all: boolean;
  'keep-storage'?: string;
  root?: string;
}

export const pruneCommand: NbuildCommand<PruneArgs> = {
  command: 'prune',
  userns: true,
  describe: 'remove dangling images, build cache, blobs and layers nothing uses, and the stat cache of context folders that are gone',
  builder: (y: Argv) =>
    y
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'also remove the unpacked copies of all layers (they are unpacked again when needed)' })
      .option('keep-storage', { type: 'string', describe: 'keep the most recently used build cache up to SIZE (e.g. 10GB)' }) as unknown as Argv<PruneArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { pruneStore }, { parseSize, humanSize }] = await Promise.all([
      import('../../sandbox/index.js'), import('../../images/prune.js'), import('../format.js'),
    ]);
    const keepStorage = args['keep-storage'] !== undefined ? parseSize(args['keep-storage']) : undefined;
    await enterUserNamespace();
    const r = await pruneStore({ storeRoot: resolveStoreRoot(args.root), all: args.all, keepStorage });
    for (const m of r.images) process.stdout.write(`Deleted: ${m}\n`);
    process.stdout.write(`${r.images.length} image(s), ${r.cacheRecords} cache record(s), ${r.blobs} blob(s), ${r.layers} unpacked layer(s), ${r.statCacheFiles} stat cache file(s) of gone context folders removed; ${humanSize(r.bytes)} of blobs reclaimed\n`);
    for (const n of r.notes) process.stderr.write(`nbuild: ${n}\n`);
  },
};
