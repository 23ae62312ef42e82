// `nbuild inspect IMAGE... [--format]`: config, manifest and digests as JSON.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface InspectArgs {
  images: string[];
  format?: string;
  root?: string;
}

export const inspectCommand: NbuildCommand<InspectArgs> = {
  command: 'inspect <images..>',
  userns: false,
  describe: "print an image's config, manifest and digests as JSON",
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('format', { alias: 'f', type: 'string', describe: 'Go-template-like format, e.g. "{{.Id}}" or "{{json .Config.Env}}"' }) as unknown as Argv<InspectArgs>,
  handler: async (args) => {
    const [{ inspectImages }, { renderTemplate }] = await Promise.all([import('../../images/inspect.js'), import('../format.js')]);
    const out = await inspectImages({ storeRoot: resolveStoreRoot(args.root), images: args.images });
    if (args.format) for (const o of out) process.stdout.write(`${renderTemplate(args.format, o as unknown as Record<string, unknown>)}\n`);
    else process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  },
};
