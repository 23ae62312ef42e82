// oci-layout: an OCI image layout folder (SPEC §Outputs type=oci-layout). Adds to
// an existing layout: blobs already present are kept, a name given again moves to
// the new image, other entries of index.json stay. A new layout is written in a temp
// folder beside it and renamed into place; in an existing one, index.json is
// replaced last (atomically), and a failed write removes the blobs and folders it
// added (partial.ts).
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import { Digest } from '../image/digest.js';
import type { Index } from '../image/types.js';
import { errnoOf } from '../store/fsutil.js';
import type { Store } from '../store/store.js';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, type ExportItem, LAYOUT_CONTENT, LAYOUT_FILE, collectBlobs, indexBytes, indexDescriptors, makeIndex } from './layout.js';
import { PartialOutput, outputError, removeDeadTemps, removeStaleTemps, replaceFile, tempBeside } from './partial.js';
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
  const blobsDir = path.join(dir, 'blobs', 'sha256');
  for (const d of [path.join(dir, 'blobs'), blobsDir]) {
    if (await fs.mkdir(d).then(() => true, (e: unknown) => (errnoOf(e) === 'EEXIST' ? false : Promise.reject(e)))) made?.add(d);
  }
  for (const d of [dir, blobsDir]) await removeDeadTemps(d);
  await checkOrWriteLayoutFile(dir, made);
  for (const b of await collectBlobs(store, items)) {
    const target = path.join(blobsDir, b.digest.hex);
    const st = await fs.stat(target).catch(() => undefined);
    if (st?.isFile() && st.size === b.size) {
      if (!b.data) progress.settled(b.digest.toString(), b.size, 'exists');
      continue;
    }
    made?.add(target);
    if (b.data) {
      await replaceFile(target, b.data);
      continue;
    }
    const tmp = tempBeside(target);
    const own = new PartialOutput();
    own.add(tmp);
    const meter = progress.blob(b.digest.toString(), b.size);
    await own.run(async () => {
      await fs.copyFile(store.blobPath(b.digest), tmp, fsc.COPYFILE_FICLONE); // a reflink where the fs can
      await fs.rename(tmp, target);
    });
    meter.done();
  }
  const index = await readIndex(dir);
  const added = indexDescriptors(items);
  const newNames = new Set(added.map((d) => d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME]).filter((n) => n !== undefined));
  const addedDigests = new Set(added.filter((d) => (d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME]) === undefined).map((d) => d.digest));
  const kept = index.manifests.filter((d) => {
    const n = d.annotations?.[ANNOTATION_CONTAINERD_NAME] ?? d.annotations?.[ANNOTATION_REF_NAME];
    if (n !== undefined) return !newNames.has(n);
    return !addedDigests.has(d.digest);
  });
  await replaceFile(path.join(dir, 'index.json'), indexBytes({ ...index, ...makeIndex([...kept, ...added]) }));
}

async function checkOrWriteLayoutFile(dir: string, made: PartialOutput | undefined): Promise<void> {
  const file = path.join(dir, LAYOUT_FILE);
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as { imageLayoutVersion?: unknown };
    if (v.imageLayoutVersion !== '1.0.0') throw new NbuildError('LAYOUT_VERSION', `${file}: unsupported imageLayoutVersion ${String(v.imageLayoutVersion)}`);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e instanceof NbuildError ? e : new NbuildError('LAYOUT_INVALID', `${file} is not an OCI layout file`, { cause: e });
    made?.add(file);
    await replaceFile(file, LAYOUT_CONTENT);
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
  let index: Index;
  try {
    index = JSON.parse(text) as Index;
  } catch {
    throw new NbuildError('LAYOUT_INVALID', `${file} is not JSON`);
  }
  if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests) || !index.manifests.every((d) => Digest.isValid(d.digest))) {
    throw new NbuildError('LAYOUT_INVALID', `${file} is not an OCI image index`);
  }
  return index;
}
