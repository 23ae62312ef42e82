// `nbuild inspect IMAGE... [--format]`: config, manifest and digests as JSON.
import type { Argv, CommandModule } from 'yargs';
import { NbuildError } from '../../errors.js';
import type { Image } from '../../image/image.js';
import type { Reference } from '../../image/reference.js';
import { resolveStoreRoot } from '../global-options.js';

interface InspectArgs {
  images: string[];
  format?: string;
  root?: string;
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <images..>',
  describe: "print an image's config, manifest and digests as JSON",
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'names or ids' })
      .option('format', { alias: 'f', type: 'string', describe: 'Go-template-like format, e.g. "{{.Id}}" or "{{json .Config.Env}}"' }) as unknown as Argv<InspectArgs>,
  handler: async (args) => {
    const [{ Store }, { parseReference }, { renderTemplate }] = await Promise.all([import('../../store/store.js'), import('../../image/reference.js'), import('../../export/format.js')]);
    const store = await Store.open(resolveStoreRoot(args.root));
    const refs = await store.readRefs();
    const out: Record<string, unknown>[] = [];
    for (const arg of args.images) {
      const digest = await store.resolve(arg);
      if (!digest) throw new NbuildError('IMAGE_UNKNOWN', `no such image: ${arg}`);
      const names = Object.entries(refs.names).filter(([, d]) => d === digest.toString()).map(([n]) => parseReference(n));
      const index = await store.indexByDigest(digest);
      if (!index) {
        out.push(describeImage(await store.imageByDigest(digest), names));
        continue;
      }
      // A multi-platform index: the index, then each of its images as a single image is shown.
      const images = await store.entryImages(digest);
      out.push({
        Id: index.digest.toString(),
        Digest: index.digest.toString(),
        RepoTags: names.map((r) => r.familiar()),
        RepoDigests: [...new Set(names.map((r) => `${r.familiarName()}@${index.digest}`))],
        MediaType: index.index.mediaType ?? null,
        Platforms: index.platforms(),
        Index: index.index,
        Manifests: images.map((img) => describeImage(img, [])),
      });
    }
    if (args.format) for (const o of out) process.stdout.write(`${renderTemplate(args.format, o)}\n`);
    else process.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
  },
};

function describeImage(image: Image, names: Reference[]): Record<string, unknown> {
  const c = image.config;
  return {
    Id: image.id.toString(),
    Digest: image.manifestDigest.toString(),
    RepoTags: names.map((r) => r.familiar()),
    RepoDigests: [...new Set(names.map((r) => `${r.familiarName()}@${image.manifestDigest}`))],
    Created: c.created ?? null,
    Author: c.author ?? '',
    Architecture: c.architecture,
    Os: c.os,
    ...(c.variant ? { Variant: c.variant } : {}),
    Config: c.config ?? {},
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids },
    Size: image.layers.reduce((n, l) => n + l.size, 0),
    History: c.history ?? [],
    ManifestMediaType: image.manifest.mediaType ?? null,
    Manifest: image.manifest,
    Annotations: image.manifest.annotations ?? {},
  };
}
