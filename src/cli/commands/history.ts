// `nbuild history IMAGE`: one row per history entry, newest first.
import type { Argv } from 'yargs';
import { NbuildError } from '../../errors.js';
import type { History } from '../../image/types.js';
import { resolveStoreRoot } from '../global-options.js';
import type { NbuildCommand } from '../command.js';

interface HistoryArgs {
  image: string;
  'no-trunc': boolean;
  quiet: boolean;
  json: boolean;
  root?: string;
}

export const historyCommand: NbuildCommand<HistoryArgs> = {
  userns: false,
  command: 'history <image>',
  describe: 'show the history of an image: created by, size, empty layers',
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true })
      .option('no-trunc', { type: 'boolean', default: false, describe: 'do not shorten the commands' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the image id' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<HistoryArgs>,
  handler: async (args) => {
    const [{ Store }, fmt] = await Promise.all([import('../../store/store.js'), import('../format.js')]);
    const store = await Store.open(resolveStoreRoot(args.root));
    const image = await store.getImage(args.image);
    if (!image) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${args.image}`);
    // Without history, one synthetic entry per layer (some tools write none).
    const history: History[] = image.config.history?.length ? [...image.config.history] : image.layers.map(() => ({ created_by: '' }));
    let layer = 0;
    const rows = history.map((h) => {
      const l = h.empty_layer ? undefined : image.layers[layer++];
      return { created: h.created, createdBy: h.created_by ?? '', size: l?.size ?? 0, layer: l?.digest.toString(), emptyLayer: h.empty_layer === true, comment: h.comment ?? '' };
    });
    rows.reverse();
    if (args.quiet) {
      process.stdout.write(`${args['no-trunc'] ? image.id.toString() : image.id.short()}\n`);
      return;
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const trunc = (s: string) => (args['no-trunc'] || s.length <= 45 ? s : `${s.slice(0, 44)}…`);
    const table = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
    rows.forEach((r, i) => table.push([i === 0 ? image.id.short() : '<missing>', fmt.ago(r.created), trunc(r.createdBy.replace(/\s+/g, ' ')), fmt.humanSize(r.size), r.comment]));
    process.stdout.write(fmt.table(table));
  },
};
