// Hostile archives and layers, shared by the unit tests (test/native/hostile, test/export/hostile)
// and the end-to-end adversarial suite (test/security/hostile-inputs): a raw tar builder that
// writes entries exactly as given, the layers that try to get out of their root, and the OCI
// archives that try to get bad bytes or names into a store. Each case aims at `victim`, a folder
// outside the store that must stay untouched.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { readTar } from '../../src/oci/tar.js';

export interface RawTarEntry {
  name: string;
  type?: '0' | '1' | '2' | '3' | '4' | '5' | 'x';
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devMajor?: number;
  devMinor?: number;
}

/**
 * A plain ustar archive, exactly as given (no normalization): for hostile-layer tests. Ids
 * default to our own, so an unprivileged test run can chown to them.
 */
export function buildTar(entries: RawTarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = Buffer.from(e.data ?? '');
    const octal = (n: number, width: number) => `${n.toString(8).padStart(width, '0')}\0`;
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode ?? (e.type === '5' ? 0o755 : 0o644), 7), 100);
    h.write(octal(e.uid ?? process.getuid?.() ?? 0, 7), 108);
    h.write(octal(e.gid ?? process.getgid?.() ?? 0, 7), 116);
    h.write(octal(data.length, 11), 124);
    h.write('00000000000\0', 136);
    h.write(e.type ?? '0', 156);
    h.write(e.linkname ?? '', 157, 100, 'utf8');
    h.write('ustar\0' + '00', 257, 'latin1');
    h.write(octal(e.devMajor ?? 0, 7), 329);
    h.write(octal(e.devMinor ?? 0, 7), 337);
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// ------------------------------------------------------------------ hostile layers

export interface HostileLayer {
  title: string;
  entries: RawTarEntry[];
  /** The native engine's error code when the layer is applied, or undefined: applied, inside its root. */
  code: string | undefined;
  gzip?: boolean;
}

/** Enough `..` to climb out of any extraction root, whatever its depth. */
const UP = '../'.repeat(48);

/** Layers that try to write, link or point at `victim` (an absolute folder holding a file `passwd`). */
export function hostileLayers(victim: string): HostileLayer[] {
  const rel = `${UP}${victim.slice(1)}`;
  return [
    { title: 'tar-slip ../', entries: [{ name: `${rel}/pwned`, data: 'pwned' }], code: 'ESCAPE', gzip: true },
    { title: 'nested tar-slip', entries: [{ name: 'a/', type: '5' }, { name: `a/${rel}/pwned`, data: 'pwned' }], code: 'ESCAPE' },
    { title: 'an absolute name', entries: [{ name: `${victim}/pwned`, data: 'pwned' }], code: 'ABSOLUTE' },
    {
      title: 'a relative symlink out, then a write through it',
      entries: [{ name: 'evil', type: '2', linkname: rel }, { name: 'evil/pwned', data: 'pwned' }],
      code: 'ESCAPE',
    },
    {
      title: 'a deep relative symlink out, then a write through it',
      entries: [{ name: 'a/', type: '5' }, { name: 'a/evil', type: '2', linkname: `../${rel}` }, { name: 'a/evil/passwd', data: 'pwned' }],
      code: 'ESCAPE',
    },
    { title: 'a hard link out', entries: [{ name: 'h', type: '1', linkname: `${rel}/passwd` }], code: 'ESCAPE' },
    { title: 'a hard link to an absolute path', entries: [{ name: 'h', type: '1', linkname: `${victim}/passwd` }], code: 'ABSOLUTE' },
    {
      title: 'a hard link through a symlinked parent',
      entries: [{ name: 'up', type: '2', linkname: '/' }, { name: 'h', type: '1', linkname: `up/${victim.slice(1)}/passwd` }],
      code: 'ENOENT',
    },
    { title: 'a symlink loop (etc -> /etc)', entries: [{ name: 'etc', type: '2', linkname: '/etc' }, { name: 'etc/hosts', data: 'x' }], code: 'ELOOP' },
    {
      title: 'an absolute symlink to the victim, then a write through it (resolved inside the root)',
      entries: [{ name: 'evil', type: '2', linkname: victim }, { name: 'evil/pwned', data: 'inside' }],
      code: undefined,
    },
    { title: 'a device node (/dev/mem)', entries: [{ name: 'mem', type: '3', devMajor: 1, devMinor: 1, mode: 0o666 }], code: 'EPERM' },
    { title: 'a malformed PAX size', entries: [{ name: 'PaxHeaders/f', type: 'x', data: '12 size=abc\n' }, { name: 'f', data: 'x' }], code: 'BAD_LAYER' },
    {
      title: 'an oversized PAX record (a memory bomb)',
      entries: [{ name: 'PaxHeaders/f', type: 'x', data: Buffer.alloc((16 << 20) + 512, 0x20) }, { name: 'f', data: 'x' }],
      code: 'BAD_LAYER',
    },
    { title: 'a file where a folder was', entries: [{ name: 'a', data: 'file' }, { name: 'a/b', data: 'x' }], code: 'ENOTDIR' },
  ];
}

/** The layer blob of a hostile layer (gzip-compressed when the case says so). */
export function layerBlob(layer: HostileLayer): Buffer {
  const tar = buildTar(layer.entries);
  return layer.gzip ? gzipSync(tar) : tar;
}

/** A gzip stream of a tar holding one file of `bytes` zeros: a few hundred KiB that inflate to `bytes`. */
export async function gzipBomb(bytes: number): Promise<{ blob: Buffer; diffId: string }> {
  const header = buildTar([{ name: 'zeros', data: '' }]).subarray(0, 512);
  header.write(`${bytes.toString(8).padStart(11, '0')}\0`, 124);
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const h = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  async function* tar(): AsyncGenerator<Buffer> {
    h.update(header);
    yield header;
    for (let left = bytes; left > 0; left -= chunk.length) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      h.update(piece);
      yield piece;
    }
    const end = Buffer.alloc((512 - (bytes % 512)) % 512 + 1024);
    h.update(end);
    yield end;
  }
  const out: Buffer[] = [];
  for await (const c of Readable.from(tar()).pipe(createGzip({ level: 9 }))) out.push(c as Buffer);
  return { blob: Buffer.concat(out), diffId: `sha256:${h.digest('hex')}` };
}

// ------------------------------------------------------------------ OCI archives

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface ArchiveLayer {
  blob: Buffer;
  /** What the config claims (the sha256 of the uncompressed tar, unless a case lies). */
  diffId: string;
  mediaType: string;
}

/** A layer for ociArchive from a raw tar, gzip-compressed. */
export function gzipLayer(tar: Buffer): ArchiveLayer {
  return { blob: gzipSync(tar), diffId: sha256(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

export interface ArchiveImage {
  manifestBytes: Buffer;
  configBytes: Buffer;
  layers: ArchiveLayer[];
}

export function imageOf(layers: ArchiveLayer[], config: Record<string, unknown> = {}): ArchiveImage {
  const configBytes = Buffer.from(JSON.stringify({
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/bin'], ...config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
  }));
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(configBytes), size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length })),
  }));
  return { manifestBytes, configBytes, layers };
}

/** The entries of an OCI archive (oci-layout, index.json, blobs) naming the image `name`. */
export function ociArchiveEntries(img: ArchiveImage, name = 'docker.io/library/hostile:latest'): RawTarEntry[] {
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{
      mediaType: OCI_MANIFEST, digest: sha256(img.manifestBytes), size: img.manifestBytes.length,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() },
    }],
  };
  const blob = (b: Buffer): RawTarEntry => ({ name: `blobs/sha256/${sha256(b).slice(7)}`, data: b });
  return [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    blob(img.manifestBytes),
    blob(img.configBytes),
    ...img.layers.map((l) => blob(l.blob)),
  ];
}

export async function writeOciArchive(file: string, img: ArchiveImage, name?: string): Promise<void> {
  await fs.writeFile(file, buildTar(ociArchiveEntries(img, name)));
}

/** The regular files of an archive, in order. */
export async function archiveFiles(file: string): Promise<RawTarEntry[]> {
  const out: RawTarEntry[] = [];
  await readTar(createReadStream(file), async (e, body) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    if (e.type === 'file') out.push({ name: e.name, data: Buffer.concat(chunks) });
  });
  return out;
}

/** Rewrites an archive, letting `edit` change each file's name or bytes (or drop it with null), then appends `extra`. */
export async function rewriteArchive(src: string, dest: string, edit: (name: string, data: Buffer) => [string, Buffer] | null, extra: RawTarEntry[] = []): Promise<void> {
  const kept: RawTarEntry[] = [];
  for (const e of await archiveFiles(src)) {
    const r = edit(e.name, e.data as Buffer);
    if (r) kept.push({ name: r[0], data: r[1] });
  }
  await fs.writeFile(dest, buildTar([...kept, ...extra]));
}

export interface HostileArchive {
  title: string;
  /** The error a load gives: its code and a pattern of its message. */
  code: string;
  message: RegExp;
  /** Writes the hostile archive to `dest`, starting from `good` (an archive of `img`). */
  make(good: string, img: ArchiveImage, dest: string): Promise<void>;
}

const hexOf = (b: Buffer): string => sha256(b).slice(7);

/** OCI archives that try to bring bad bytes, bad names or files outside the archive into a store. */
export function hostileOciArchives(victim: string): HostileArchive[] {
  const layerName = (img: ArchiveImage, i: number) => `blobs/sha256/${hexOf(img.layers[i].blob)}`;
  const withIndex = (good: string, dest: string, fix: (index: { manifests: Record<string, unknown>[] }) => unknown) =>
    rewriteArchive(good, dest, (n, d) => [n, n === 'index.json' ? Buffer.from(JSON.stringify(fix(JSON.parse(d.toString())))) : d]);
  return [
    {
      title: 'a blob whose content does not match its digest',
      code: 'DIGEST_MISMATCH', message: /has digest/,
      make: (good, img, dest) => rewriteArchive(good, dest, (n, d) => [n, n === layerName(img, 0) ? Buffer.concat([d, Buffer.from('x')]) : d]),
    },
    ...[`${UP}${victim.slice(1)}/evil`, 'blobs/../../evil'].map((evil): HostileArchive => ({
      title: `an entry named ${evil.replace(UP, '../…/')}`,
      code: 'ARCHIVE_INVALID', message: /escapes the archive/,
      make: (good, _img, dest) => rewriteArchive(good, dest, (n, d) => [n, d], [{ name: evil, data: 'x' }]),
    })),
    {
      title: 'an absolute entry name',
      code: 'ARCHIVE_INVALID', message: /absolute path/,
      make: (good, _img, dest) => rewriteArchive(good, dest, (n, d) => [n, d], [{ name: `${victim}/evil`, data: 'x' }]),
    },
    {
      title: 'a layer that is a symlink out of the archive',
      code: 'ARCHIVE_INVALID', message: /escapes the archive/,
      make: (good, img, dest) => rewriteArchive(good, dest, (n, d) => (n === layerName(img, 0) ? null : [n, d]), [{ name: layerName(img, 0), type: '2', linkname: `../../${UP}${victim.slice(1)}/passwd` }]),
    },
    {
      title: 'a layer that is a hard link to an absolute path',
      code: 'ARCHIVE_INVALID', message: /absolute path/,
      make: (good, img, dest) => rewriteArchive(good, dest, (n, d) => (n === layerName(img, 0) ? null : [n, d]), [{ name: layerName(img, 0), type: '1', linkname: `${victim}/passwd` }]),
    },
    {
      title: 'a device entry',
      code: 'ARCHIVE_INVALID', message: /not a regular file/,
      make: (good, _img, dest) => rewriteArchive(good, dest, (n, d) => [n, d], [{ name: 'blobs/mem', type: '3', devMajor: 1, devMinor: 1 }]),
    },
    {
      title: 'an index pointing nowhere',
      code: 'ARCHIVE_INVALID', message: /missing/,
      make: (good, _img, dest) => withIndex(good, dest, (idx) => ({ ...idx, manifests: idx.manifests.map((m) => ({ ...m, digest: `sha256:${'f'.repeat(64)}` })) })),
    },
    {
      title: 'a missing layer',
      code: 'ARCHIVE_INVALID', message: /layer 0 .* missing/,
      make: (good, img, dest) => rewriteArchive(good, dest, (n, d) => (n === layerName(img, 0) ? null : [n, d])),
    },
    {
      title: 'an index.json that is not JSON',
      code: 'ARCHIVE_INVALID', message: /not valid JSON/,
      make: (good, _img, dest) => rewriteArchive(good, dest, (n, d) => [n, n === 'index.json' ? Buffer.from('{not json') : d]),
    },
    {
      title: 'junk instead of a tar',
      code: 'ARCHIVE_INVALID', message: /tar/,
      make: (_good, _img, dest) => fs.writeFile(dest, Buffer.alloc(3000, 7)),
    },
    {
      title: 'a truncated archive',
      code: 'ARCHIVE_INVALID', message: /truncated|tar/,
      make: async (good, _img, dest) => fs.writeFile(dest, (await fs.readFile(good)).subarray(0, 1500)),
    },
    {
      title: 'an entry given twice',
      code: 'ARCHIVE_INVALID', message: /twice/,
      make: (good, _img, dest) => rewriteArchive(good, dest, (n, d) => [n, d], [{ name: 'index.json', data: '{}' }]),
    },
    {
      title: "a layer whose diff_id is not the config's",
      code: 'DIGEST_MISMATCH', message: /diff_id/,
      make: async (_good, img, dest) => {
        // Each layer claims its neighbour's diff_id (a lone layer claims zeros); digests all match.
        const claim = (i: number) => (img.layers.length > 1 ? img.layers[(i + 1) % img.layers.length].diffId : `sha256:${'0'.repeat(64)}`);
        await writeOciArchive(dest, imageOf(img.layers.map((l, i) => ({ ...l, diffId: claim(i) }))));
      },
    },
    {
      title: 'a decompression bomb (256 MiB of zeros) with a wrong diff_id',
      code: 'DIGEST_MISMATCH', message: /diff_id/,
      make: async (_good, _img, dest) => {
        const bomb = await gzipBomb(256 << 20);
        await writeOciArchive(dest, imageOf([{ blob: bomb.blob, diffId: `sha256:${'1'.repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }]));
      },
    },
  ];
}
