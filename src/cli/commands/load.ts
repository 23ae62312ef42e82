// `nbuild load -i FILE [-t NAME]`: images in from an OCI archive, an OCI layout
// folder or a `docker save` archive.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface LoadArgs {
  input: string;
  tag?: string;
  quiet: boolean;
  root?: string;
}

export const loadCommand: NbuildCommand<LoadArgs> = {
  command: 'load',
  userns: true,
  describe: 'load images from an OCI archive, an OCI layout folder or a docker save archive',
  builder: (y: Argv) =>
    y
      .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'the archive (tar, tar.gz) or OCI layout folder' })
      .option('tag', { alias: 't', type: 'string', describe: 'also name the loaded image NAME' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only image ids' }) as unknown as Argv<LoadArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { loadImages }, { parseReference }] = await Promise.all([
      import('../../sandbox/index.js'), import('../../images/load.js'), import('../../image/reference.js'),
    ]);
    if (args.tag !== undefined) parseReference(args.tag); // bad usage fails before any work
    await enterUserNamespace();
    for (const { id, names } of await loadImages({ storeRoot: resolveStoreRoot(args.root), input: args.input, tag: args.tag })) {
      if (args.quiet) process.stdout.write(`${id}\n`);
      else if (names.length === 0) process.stdout.write(`Loaded image ID: ${id}\n`);
      else for (const n of names) process.stdout.write(`Loaded image: ${parseReference(n).familiar()}\n`);
    }
  },
};
