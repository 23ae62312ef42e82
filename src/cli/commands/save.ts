// `nbuild save IMAGE... -o FILE [--format oci|docker|oci-dir]`.
import type { Argv, CommandModule } from 'yargs';
import type { ExportItem } from '../../export/layout.js';
import { UsageError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';

interface SaveArgs {
  images: string[];
  output: string;
  format: 'oci' | 'docker' | 'oci-dir';
  root?: string;
}

export const saveCommand: CommandModule<object, SaveArgs> = {
  command: 'save <images..>',
  describe: 'write images to an OCI archive, a docker save archive or an OCI layout folder',
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the file (or folder for oci-dir) to write' })
      .option('format', { type: 'string', choices: ['oci', 'docker', 'oci-dir'], default: 'oci', describe: 'oci: OCI layout in a tar; docker: docker save archive (also an OCI layout); oci-dir: OCI layout folder' }) as unknown as Argv<SaveArgs>,
  handler: async (args) => {
    const [{ Store }, { parseReference }, { writeOciArchive }, { writeDockerArchive }, { writeOciLayout }] = await Promise.all([
      import('../../store/store.js'), import('../../image/reference.js'), import('../../export/oci-archive.js'), import('../../export/docker-archive.js'), import('../../export/oci-layout.js'),
    ]);
    const store = await Store.open(resolveStoreRoot(args.root));
    const refs = await store.readRefs();
    const items = new Map<string, ExportItem>();
    for (const arg of args.images) {
      const digest = await store.resolve(arg);
      if (!digest) throw new UsageError(`no such image: ${arg}`);
      const key = digest.toString();
      const index = await store.indexByDigest(digest);
      const images = index ? await store.entryImages(digest) : [await store.imageByDigest(digest)];
      if (index && args.format === 'docker') throw new UsageError(`${arg} is a multi-platform image (${index.platforms().join(', ')}): a docker archive holds one platform; use --format oci`);
      if (index && images.length !== index.manifests.length) throw new UsageError(`${arg}: only ${images.length} of the ${index.manifests.length} images of its index are in the store`);
      const item = items.get(key) ?? { image: images[0], names: [], ...(index ? { index, images } : {}) };
      items.set(key, item);
      // A name keeps its name in the archive; an id saves the image unnamed, as docker does.
      let name: string | undefined;
      try {
        name = parseReference(arg).toString();
      } catch {
        name = undefined;
      }
      if (name && refs.names[name] === key && !item.names.includes(name)) item.names.push(name);
    }
    const list = [...items.values()];
    if (args.format === 'docker') await writeDockerArchive(store, list, args.output);
    else if (args.format === 'oci-dir') await writeOciLayout(store, list, args.output);
    else await writeOciArchive(store, list, args.output);
  },
};
