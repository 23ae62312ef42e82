// `-o/--output` destinations of a build, as docker buildx writes them. Every key buildx documents
// for a type either works here or is refused with one line naming it: nothing is silently ignored.
import * as fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import type { ImageIndex } from '../image/image-index.js';
import { formatPlatform, platformOf } from '../image/platform.js';
import type { Compression } from '../image/media-types.js';
import { writeOciArchive } from './oci-archive.js';
import { writeOciLayout } from './oci-layout.js';
import { writeDockerArchive } from './docker-archive.js';
import { writeRootfs } from './rootfs.js';
import { toDockerImage, toDockerIndex } from '../image/docker-media-types.js';
import { UsageError } from '../errors.js';
import { parseReference } from '../image/reference.js';
import type { SessionOptions } from '../registry/session.js';
import { noProgress, pushProgress, type TaskStarter, type TransferProgress } from '../executor/transfer-progress.js';

/** `dest=-` (or `-o -`): the archive goes to standard output. */
export const STDOUT = '-';

/** How an output wants its layers compressed (`compression=`, `compression-level=`). */
export interface OutputCompression {
  compression?: Compression;
  level?: number;
  /** `force-compression=true`: base layers are re-encoded to `compression` too (buildx). */
  force?: boolean;
}

/** `oci-mediatypes=false`: manifests (and an index) in Docker's media types, converted on output. */
export interface OutputMediaTypes {
  dockerMediaTypes?: boolean;
}

export type OutputSpec =
  // `load`: `build --load`'s archive, read by `docker load` / `podman load` on this machine, which
  // take plain tars as well (so it leaves a build's compression deferred: build.ts).
  | ({ type: 'oci' | 'docker'; dest: string; name?: string; load?: boolean } & OutputCompression & OutputMediaTypes)
  | ({ type: 'oci-layout'; dest: string; name?: string } & OutputCompression & OutputMediaTypes)
  | { type: 'local' | 'tar'; dest: string }
  | ({ type: 'registry'; name?: string; push: boolean } & OutputCompression & OutputMediaTypes);

// The keys each type takes; buildx's other keys are refused by name (REFUSED_KEYS says why).
const KEYS: Record<string, readonly string[]> = {
  oci: ['type', 'dest', 'name', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'tar'],
  docker: ['type', 'dest', 'name', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes', 'tar'],
  'oci-layout': ['type', 'dest', 'name', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes'],
  local: ['type', 'dest'],
  tar: ['type', 'dest'],
  registry: ['type', 'name', 'push', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes'],
  image: ['type', 'name', 'push', 'compression', 'compression-level', 'force-compression', 'oci-mediatypes'],
};
const REFUSED_KEYS: Record<string, string> = {
  'push-by-digest': 'images are pushed by the names given',
  'name-canonical': 'names are pushed as given',
  'registry.insecure': 'use --tls-verify=false or the registries config',
  unpack: 'the store always keeps unpacked layers',
  'dangling-name-prefix': 'untagged images are listed as dangling',
  'store': 'the image is always kept in the local store',
  'annotation': 'use --annotation',
  'platform-split': 'type=local writes a folder per platform; image outputs always hold one index',
  'rewrite-timestamp': 'use --timestamp / SOURCE_DATE_EPOCH',
  'buildinfo': 'not written',
  'attest': 'use --attest',
};

/**
 * Parses `type=T,dest=D[,…]`, or a bare value: `-` is a tar of the root file system on stdout
 * (buildx), a path ending in `.tar` is an OCI archive (nbuild's short form), any other path a
 * folder (= type=local, as buildx).
 */
export function parseOutputSpec(text: string): OutputSpec {
  if (!text.includes('=')) {
    if (text === STDOUT) return { type: 'tar', dest: STDOUT };
    if (text === '') throw new UsageError('--output: empty value');
    return /\.tar$/i.test(text) ? { type: 'oci', dest: path.resolve(text) } : { type: 'local', dest: path.resolve(text) };
  }
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`--output ${text}: "${part}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const type = fields.get('type') ?? 'local';
  const allowed = KEYS[type];
  if (!allowed) {
    if (type === 'cacheonly') throw new UsageError('--output type=cacheonly: not supported; leave out -o to keep the image only in the store');
    throw new UsageError(`--output: unknown type "${type}" (oci, oci-layout, docker, image, registry, local, tar)`);
  }
  for (const key of fields.keys()) {
    if (allowed.includes(key)) continue;
    const why = REFUSED_KEYS[key] ?? `not a key of type=${type} (${allowed.join(', ')})`;
    throw new UsageError(`--output ${key}=…: not supported by nbuild: ${why}`);
  }
  const bool = (key: string, fallback: boolean): boolean => {
    const v = fields.get(key);
    if (v === undefined || v === '') return fallback;
    if (/^(true|1)$/i.test(v)) return true;
    if (/^(false|0)$/i.test(v)) return false;
    throw new UsageError(`--output ${key}=${v}: expected true or false`);
  };
  if (!bool('tar', true)) throw new UsageError(`--output tar=false: use type=oci-layout,dest=DIR for a folder`);
  const compression = outputCompression(fields);
  if (bool('force-compression', false)) compression.force = true;
  const media: OutputMediaTypes = bool('oci-mediatypes', true) ? {} : { dockerMediaTypes: true };
  // As buildx: zstd has no Docker media type.
  if (media.dockerMediaTypes && compression.compression === 'zstd') throw new UsageError('--output compression=zstd conflicts with oci-mediatypes=false');
  const dest = fields.get('dest');
  const name = fields.get('name');
  const needDest = (): string => {
    if (!dest) throw new UsageError(`--output type=${type} needs dest=`);
    return dest === STDOUT ? STDOUT : path.resolve(dest);
  };
  switch (type) {
    case 'oci':
    case 'docker':
      return { type, dest: needDest(), name, ...compression, ...media };
    case 'oci-layout':
      if (needDest() === STDOUT) throw new UsageError('--output type=oci-layout,dest=-: a layout is a folder; use type=oci,dest=- for a tar on stdout');
      return { type, dest: needDest(), name, ...compression, ...media };
    case 'local':
      if (needDest() === STDOUT) throw new UsageError('--output type=local,dest=-: a folder cannot go to stdout; use type=tar,dest=-');
      return { type, dest: needDest() };
    case 'tar':
      return { type, dest: needDest() };
    default:
      // type=registry is type=image,push=true (buildx).
      return { type: 'registry', name, push: type === 'registry' ? bool('push', true) : bool('push', false), ...compression, ...media };
  }
}

function outputCompression(fields: Map<string, string>): OutputCompression {
  const out: OutputCompression = {};
  const c = fields.get('compression');
  if (c !== undefined) {
    if (c === 'uncompressed' || c === 'none') out.compression = 'none';
    else if (c === 'gzip' || c === 'zstd') out.compression = c;
    else if (c === 'estargz') throw new UsageError('--output compression=estargz: not supported (gzip, zstd, uncompressed)');
    else throw new UsageError(`--output compression=${c}: expected gzip, zstd or uncompressed`);
  }
  const level = fields.get('compression-level');
  if (level !== undefined) {
    if (!/^\d+$/.test(level)) throw new UsageError(`--output compression-level=${level}: expected a whole number`);
    out.level = Number(level);
  }
  return out;
}

/**
 * The layer compression the outputs ask for: new layers are made that way. Outputs that disagree
 * are refused (nbuild compresses each layer once, while building).
 */
export function compressionOfOutputs(outputs: readonly OutputSpec[]): OutputCompression {
  let found: OutputCompression | undefined;
  for (const o of outputs) {
    if (!('compression' in o) && !('level' in o) && !('force' in o)) continue;
    const c = o as OutputCompression;
    if (c.compression === undefined && c.level === undefined && !c.force) continue;
    if (found && (found.compression !== c.compression || found.level !== c.level || !found.force !== !c.force)) {
      throw new UsageError('--output: the outputs ask for different compression; nbuild compresses each layer once, while building');
    }
    found = { compression: c.compression, level: c.level, ...(c.force ? { force: true } : {}) };
  }
  return found ?? {};
}

/** True when an output writes to standard output (so nothing else may). */
export function writesToStdout(outputs: readonly OutputSpec[]): boolean {
  return outputs.some((o) => 'dest' in o && o.dest === STDOUT);
}

/** A result that is an index: multi-platform, or one image with attestations (all in the store). */
export interface MultiPlatform {
  index: ImageIndex;
  /** The platforms' images. */
  images: readonly Image[];
  /** The attestation manifests the index lists beside them. */
  attestations?: readonly Image[];
  /** `--annotation index-descriptor:`: on the index's entry in an OCI layout's index.json. */
  indexDescriptor?: Readonly<Record<string, string>>;
}

/** Checks before the build that every output can take a multi-platform result. */
export function checkMultiPlatformOutputs(outputs: readonly OutputSpec[]): void {
  for (const out of outputs) {
    // buildx: "docker exporter does not currently support exporting manifest lists".
    if (out.type === 'docker') throw new UsageError('--output type=docker (or --load): a docker archive holds one platform; build one --platform, or use type=oci / type=registry for a multi-platform image');
    if (out.type === 'tar') throw new UsageError('--output type=tar: one root file system, one platform; use type=local (a folder per platform) or type=oci for a multi-platform build');
  }
}

/** What an output is written as, in progress displays (BuildKit's "exporting to …"). */
const EXPORTING: Record<OutputSpec['type'], string> = {
  oci: 'oci archive',
  docker: 'docker archive',
  'oci-layout': 'oci layout',
  local: 'folder',
  tar: 'tar of the root file system',
  registry: 'image',
};

/** `tasks`: each output that moves blobs is a progress task (build.ts numbers them with the steps). */
export async function writeOutputs(store: Store, image: Image, names: string[], outputs: OutputSpec[], registry: SessionOptions = {}, multi?: MultiPlatform, tasks?: TaskStarter): Promise<void> {
  if (outputs.filter((o) => 'dest' in o && o.dest === STDOUT).length > 1) throw new UsageError('--output: only one output can go to stdout (dest=-)');
  if (multi && multi.images.length > 1) checkMultiPlatformOutputs(outputs);
  for (const out of outputs) {
    const outNames = 'name' in out && out.name ? out.name.split(',').filter(Boolean) : names;
    const task = out.type === 'registry' ? undefined : tasks?.(`exporting to ${EXPORTING[out.type]} ${'dest' in out && out.dest === STDOUT ? 'stdout' : 'dest' in out ? out.dest : ''}`.trimEnd());
    const progress = task ?? noProgress;
    const write = async (): Promise<void> => {
      if ('dest' in out && out.dest === STDOUT) {
        await viaTempFile(store, (file) => writeOne(store, image, outNames, { ...out, dest: file }, registry, multi, progress, tasks), process.stdout);
      } else await writeOne(store, image, outNames, out, registry, multi, progress, tasks);
    };
    await (task ? task.run(write) : write());
  }
}

async function writeOne(store: Store, stored: Image, outNames: string[], out: OutputSpec, registry: SessionOptions, storedMulti: MultiPlatform | undefined, progress: TransferProgress, tasks: TaskStarter | undefined): Promise<void> {
  // The store keeps OCI; oci-mediatypes=false converts what is written (docker-media-types.ts).
  const docker = 'dockerMediaTypes' in out && out.dockerMediaTypes === true;
  const image = docker ? toDockerImage(stored) : stored;
  const multi = docker && storedMulti ? { ...storedMulti, ...toDockerIndex(storedMulti.index, [...storedMulti.images, ...(storedMulti.attestations ?? [])]), attestations: [] } : storedMulti;
  const all = multi ? [...multi.images, ...(multi.attestations ?? [])] : [];
  const item = multi ? { image, names: outNames, index: multi.index, images: all, descriptorAnnotations: multi.indexDescriptor } : { image, names: outNames };
  switch (out.type) {
    case 'oci':
      await writeOciArchive(store, [item], out.dest, progress);
      break;
    case 'oci-layout':
      await writeOciLayout(store, [item], out.dest, progress);
      break;
    case 'docker':
      await writeDockerArchive(store, [{ image, names: outNames }], out.dest, progress);
      break;
    case 'local':
    case 'tar':
      if (!multi) await writeRootfs(store, image, out.type, out.dest, progress);
      // As buildx: a folder per platform, named os_arch[_variant].
      else for (const one of multi.images) await writeRootfs(store, one, 'local', path.join(out.dest, formatPlatform(platformOf(one.config)).replaceAll('/', '_')), progress);
      break;
    case 'registry': {
      // type=image: the image is in the store (as buildx keeps it in its image store), under name= too.
      if (out.name) for (const n of outNames) await store.tag(parseReference(n).toString(), storedMulti ? storedMulti.index : stored);
      if (!out.push) break;
      const { pushImage, pushIndex } = await import('../registry/index.js');
      if (outNames.length === 0) throw new UsageError('--output type=registry needs -t NAME or name=');
      for (const n of outNames) {
        const push = async (task?: TransferProgress): Promise<unknown> => {
          const opts = { ...registry, onProgress: task ? pushProgress(task) : undefined };
          return multi ? pushIndex(store, multi.index, all, n, opts) : pushImage(store, image, n, opts);
        };
        await (tasks ? tasks(`pushing ${parseReference(n).toString()}`).run(push) : push());
      }
      break;
    }
  }
}

/** Writes an archive to a temp file in the store, then streams it to `sink` (stdout). */
async function viaTempFile(store: Store, write: (file: string) => Promise<void>, sink: NodeJS.WritableStream): Promise<void> {
  const dir = await store.tempDir('stdout-output');
  try {
    const file = path.join(dir, 'archive.tar');
    await write(file);
    await pipeline(createReadStream(file), sink, { end: false });
  } finally {
    await store.removeTempDir(dir);
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
