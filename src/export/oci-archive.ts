// oci-archive: an OCI image layout in a tar (SPEC §Outputs type=oci). Written to a
// temp file beside `dest` and renamed, so `dest` is never a partial archive (partial.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import { PartialOutput, removeStaleTemps, tempBeside } from '../fs/partial.js';
import { outputError } from './output-error.js';
import { type BlobRef, type ExportItem, collectBlobs, indexDescriptors, makeIndex } from './layout.js';
import { BLOBS_DIR, INDEX_FILE, LAYOUT_CONTENT, LAYOUT_FILE, blobName, indexBytes } from '../oci/layout.js';
import { TarWriter } from '../oci/tar.js';
import { noProgress, type TransferProgress } from '../executor/transfer-progress.js';

export type { ExportItem } from './layout.js';

export async function writeOciArchive(store: Store, items: ExportItem[], dest: string, progress: TransferProgress = noProgress): Promise<void> {
  const blobs = await collectBlobs(store, items);
  await writeArchiveAtomic(store, dest, async (tar) => {
    await writeLayoutEntries(store, tar, blobs, indexBytes(makeIndex(indexDescriptors(items))), progress);
  });
}

/** The entries of an OCI layout: oci-layout, index.json, blobs/sha256/…; `progress` hears of each layer. */
export async function writeLayoutEntries(store: Store, tar: TarWriter, blobs: BlobRef[], index: Buffer, progress: TransferProgress = noProgress): Promise<void> {
  await tar.addBuffer(LAYOUT_FILE, LAYOUT_CONTENT);
  await tar.addBuffer(INDEX_FILE, index);
  await tar.addDir('blobs');
  await tar.addDir(BLOBS_DIR);
  for (const b of blobs) {
    const name = blobName(b.digest);
    if (b.data) await tar.addBuffer(name, b.data);
    else {
      const meter = progress.blob(b.digest.toString(), b.size);
      await tar.addFile(name, store.blobPath(b.digest), b.size, (n) => meter.add(n));
      meter.done();
    }
  }
}

/**
 * Opens .dest.tmp-…, lets `fill` write the tar and renames it to dest: readers see no archive or
 * a whole one, and a failed or interrupted write leaves no temp file. Not fsynced, like `docker
 * save -o` and `cp`: an output is not the store, and forcing a 400 MB archive to disk cost
 * big-layer seconds (docs/decisions.md).
 */
export async function writeArchiveAtomic(store: Store, dest: string, fill: (tar: TarWriter) => Promise<void>): Promise<void> {
  const abs = path.resolve(dest);
  const tmp = tempBeside(abs);
  const partial = new PartialOutput();
  try {
    await removeStaleTemps(abs);
    partial.add(tmp);
    await partial.run(async () => {
      const fh = await fs.open(tmp, 'wx', 0o644);
      try {
        const tar = new TarWriter(fh);
        await fill(tar);
        await tar.finish();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, abs);
    });
  } catch (e) {
    throw outputError(e, abs, store.root);
  }
}
