// `nbuild push IMAGE [DEST]`: upload a stored image to a registry; prints the manifest digest.
import type { Argv } from 'yargs';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';

interface PushArgs extends RegistryArgs {
  image: string;
  dest?: string;
  quiet: boolean;
  'digestfile'?: string;
  root?: string;
}

export const pushCommand: NbuildCommand<PushArgs> = {
  command: 'push <image> [dest]',
  userns: false,
  describe: 'push an image from the local store to a registry (DEST defaults to IMAGE)',
  builder: (y: Argv) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'a stored image: name, id or digest' })
      .positional('dest', { type: 'string', describe: 'where to push: REGISTRY/NAME[:TAG]' })
      .options(registryOptions)
      .option('digestfile', { type: 'string', describe: 'also write the pushed digest to this file' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only the digest' }) as unknown as Argv<PushArgs>,
  handler: async (args) => {
    const [{ pushImage }, fs] = await Promise.all([import('../../images/push.js'), import('node:fs/promises')]);
    const { digest } = await pushImage({
      storeRoot: resolveStoreRoot(args.root),
      image: args.image,
      destination: args.dest,
      registry: sessionOptions(args),
      onProgress: (e) => {
        if (args.quiet) return;
        if (e.kind === 'blob') process.stderr.write(`${e.digest.slice(7, 19)}: ${e.outcome}\n`);
        else if (e.kind === 'manifest') process.stderr.write(`pushed ${e.reference}\n`);
      },
    });
    if (args.digestfile) await fs.writeFile(args.digestfile, `${digest}\n`);
    process.stdout.write(`${digest}\n`);
  },
};
