// FROM: a name in the local store, or an image carried in by file
// (`oci-archive:PATH[:TAG]`, `oci:DIR[:TAG]`, `docker-archive:PATH`).
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { loadArchive } from '../store/load.js';
import { NbuildError } from '../errors.js';

export type ImageResolver = (ref: string) => Promise<Image | undefined>;

/** `pull`: ask the registry even when the store has the name (--pull). */
export async function resolveBaseImage(store: Store, ref: string, remote?: ImageResolver, pull = false): Promise<Image> {
  const transport = /^(oci-archive|oci|docker-archive):(.+)$/.exec(ref);
  if (transport) {
    const [, kind, rest] = transport;
    const { file, tag } = splitTag(rest, kind);
    const loaded = await loadArchive(store, file);
    const pick = tag ? loaded.find((l) => l.names.some((n) => n.endsWith(`:${tag}`))) : loaded[0];
    if (!pick) throw new NbuildError('IMAGE_NOT_FOUND', `${ref}: no image${tag ? ` tagged ${tag}` : ''} in ${file}`);
    return pick.image;
  }
  const local = pull && remote ? undefined : await store.getImage(ref);
  if (local) return local;
  const fetched = remote ? await remote(ref) : undefined;
  if (fetched) return fetched;
  throw new NbuildError('IMAGE_NOT_FOUND', `base image ${ref} is not in the local store (nbuild load -i FILE, or nbuild pull ${ref})`);
}

function splitTag(rest: string, kind: string): { file: string; tag?: string } {
  if (kind === 'docker-archive') return { file: rest };
  const m = /^(.*[^/]):([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(rest);
  return m ? { file: m[1], tag: m[2] } : { file: rest };
}
