// oci-layout: an OCI image layout folder (SPEC §Outputs type=oci-layout). Adds to
// an existing layout: blobs already present are kept, a name given again moves to
// the new image, other entries of index.json stay. A new layout is written in a temp
// folder beside it and renamed into place; in an existing one, index.json is
// replaced last (atomically), and a failed write removes the blobs and folders it
// added (partial.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import type { Descriptor } from '../image/types.js';
import { OciLayout } from '../oci/layout.js';
import { errnoOf } from '../store/fsutil.js';
import type { Store } from '../store/store.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, type ExportItem, collectBlobs, indexDescriptors, makeIndex } from './layout.js';
import { PartialOutput, removeStaleTemps, tempBeside } from '../fs/partial.js';
import { outputError } from './output-error.js';
import { noProgress, type TransferProgress } from '../executor/transfer-progress.js';

export async function writeOciLayout(store: Store, items: ExportItem[], destDir: string, progress: TransferProgress = noProgress): Promise<void> {
  const dir = path.resolve(destDir);
  const partial = new PartialOutput();
  try {
    await removeStaleTemps(dir);
    const st = await fs.stat(dir).catch((e: unknown) => {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw e;
    });
    if (st && !st.isDirectory()) throw new NbuildError('LAYOUT_INVALID', `${dir} exists and is not a folder (an OCI layout is a folder)`);
    if (st) {
      await partial.run(() => fillLayout(store, items, dir, partial, progress));
      return;
    }
    await fs.mkdir(path.dirname(dir), { recursive: true });
    const tmp = tempBeside(dir);
    partial.add(tmp);
    await partial.run(async () => {
      await fs.mkdir(tmp);
      await fillLayout(store, items, tmp, undefined, progress);
      await fs.rename(tmp, dir);
    });
  } catch (e) {
    throw outputError(e, dir, store.root);
  }
}

/** Writes the blobs, the layout file and (last) index.json; `made` records what did not exist yet. */
async function fillLayout(store: Store, items: ExportItem[], dir: string, made: PartialOutput | undefined, progress: TransferProgress): Promise<void> {
  const layout = await OciLayout.create(dir, made);
  for (const b of await collectBlobs(store, items)) {
    const expect = { digest: b.digest, size: b.size };
    if (b.data) {
      await layout.writeBlob(b.data, { expect });
      continue;
    }
    if (await layout.hasBlob(b.digest, b.size)) {
      progress.settled(b.digest.toString(), b.size, 'exists');
      continue;
    }
    const meter = progress.blob(b.digest.toString(), b.size);
    await layout.writeBlob({ file: store.blobPath(b.digest), fromStore: true }, { expect, onBytes: (n) => meter.add(n) });
    meter.done();
  }
  const added = indexDescriptors(items);
  const nameOf = (d: Descriptor): string | undefined => d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
  const newNames = new Set(added.map(nameOf).filter((n) => n !== undefined));
  const addedDigests = new Set(added.filter((d) => nameOf(d) === undefined).map((d) => d.digest));
  await layout.updateIndex((index) => {
    // A name given again moves to the new image; an unnamed image is listed once.
    const kept = index.manifests.filter((d) => {
      const n = nameOf(d);
      return n !== undefined ? !newNames.has(n) : !addedDigests.has(d.digest);
    });
    return { ...index, ...makeIndex([...kept, ...added]) };
  });
}
