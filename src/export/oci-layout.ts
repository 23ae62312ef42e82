// oci-layout: an OCI image layout folder (SPEC §Outputs type=oci-layout). Adds to
// an existing layout: blobs already present are kept, a name given again moves to
// the new image, other entries of index.json stay.
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import type { Index } from '../image/types.js';
import { errnoOf, randomSuffix, storeFsError, writeFileAtomic } from '../store/fsutil.js';
import type { Store } from '../store/store.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, type ExportItem, LAYOUT_CONTENT, LAYOUT_FILE, collectBlobs, indexBytes, indexDescriptors, makeIndex } from './layout.js';

export async function writeOciLayout(store: Store, items: ExportItem[], destDir: string): Promise<void> {
  const dir = path.resolve(destDir);
  const blobsDir = path.join(dir, 'blobs', 'sha256');
  try {
    await fs.mkdir(blobsDir, { recursive: true });
    await checkOrWriteLayoutFile(dir);
    for (const b of await collectBlobs(store, items)) {
      const target = path.join(blobsDir, b.digest.hex);
      const st = await fs.stat(target).catch(() => undefined);
      if (st?.isFile() && st.size === b.size) continue;
      const tmp = path.join(blobsDir, `.tmp-${randomSuffix()}`);
      try {
        if (b.data) await fs.writeFile(tmp, b.data);
        else await fs.copyFile(store.blobPath(b.digest), tmp, fsc.COPYFILE_FICLONE); // a reflink where the fs can
        await fs.rename(tmp, target);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    const index = await readIndex(dir);
    const added = indexDescriptors(items);
    const newNames = new Set(added.map((d) => d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME]).filter((n) => n !== undefined));
    const addedDigests = new Set(added.filter((d) => !d.annotations).map((d) => d.digest));
    const kept = index.manifests.filter((d) => {
      const n = d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
      if (n !== undefined) return !newNames.has(n);
      return !addedDigests.has(d.digest);
    });
    await writeFileAtomic(path.join(dir, 'index.json'), indexBytes({ ...index, ...makeIndex([...kept, ...added]) }));
  } catch (e) {
    throw storeFsError(e, `writing the OCI layout ${dir}`);
  }
}

async function checkOrWriteLayoutFile(dir: string): Promise<void> {
  const file = path.join(dir, LAYOUT_FILE);
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { imageLayoutVersion?: unknown };
    if (v.imageLayoutVersion !== '1.0.0') throw new NbuildError('LAYOUT_VERSION', `${file}: unsupported imageLayoutVersion ${String(v.imageLayoutVersion)}`);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e instanceof NbuildError ? e : new NbuildError('LAYOUT_INVALID', `${file} is not an OCI layout file`, { cause: e });
    await writeFileAtomic(file, LAYOUT_CONTENT);
  }
}

async function readIndex(dir: string): Promise<Index> {
  const file = path.join(dir, 'index.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return makeIndex([]);
    throw e;
  }
  const index = JSON.parse(text) as Index;
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests) || !index.manifests.every((d) => Digest.isValid(d.digest))) {
    throw new NbuildError('LAYOUT_INVALID', `${file} is not an OCI image index`);
  }
  return index;
}
