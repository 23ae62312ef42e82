// `nbuild history IMAGE`: one row per history entry, newest first (imageHistory, src/images/history.ts).
import type { Argv } from 'yargs';
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
    const [{ imageHistory }, { Digest }, fmt] = await Promise.all([import('../../images/history.js'), import('../../image/digest.js'), import('../format.js')]);
    const { id, entries } = await imageHistory({ storeRoot: resolveStoreRoot(args.root), image: args.image });
    const shortId = Digest.parse(id).short();
    if (args.quiet) {
      process.stdout.write(`${args['no-trunc'] ? id : shortId}\n`);
      return;
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      return;
    }
    const trunc = (s: string) => (args['no-trunc'] || s.length <= 45 ? s : `${s.slice(0, 44)}…`);
    const table = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
    entries.forEach((r, i) => table.push([i === 0 ? shortId : '<missing>', fmt.ago(r.created), trunc(r.createdBy.replace(/\s+/g, ' ')), fmt.humanSize(r.size), r.comment]));
    process.stdout.write(fmt.table(table));
  },
};
