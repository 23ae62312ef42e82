// `nbuild save IMAGE... -o FILE [--format oci|docker|oci-dir]`.
import type { Argv } from 'yargs';
import type { SaveFormat } from '../../images/save.js';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface SaveArgs {
  images: string[];
  output: string;
  format: SaveFormat;
  root?: string;
}

export const saveCommand: NbuildCommand<SaveArgs> = {
  command: 'save <images..>',
  userns: false,
  describe: 'write images to an OCI archive, a docker save archive or an OCI layout folder',
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the file (or folder for oci-dir) to write' })
      .option('format', { type: 'string', choices: ['oci', 'docker', 'oci-dir'], default: 'oci', describe: 'oci: OCI layout in a tar; docker: docker save archive (also an OCI layout); oci-dir: OCI layout folder' }) as unknown as Argv<SaveArgs>,
  handler: async (args) => {
    const { saveImages } = await import('../../images/save.js');
    await saveImages({ storeRoot: resolveStoreRoot(args.root), images: args.images, output: args.output, format: args.format });
  },
};
