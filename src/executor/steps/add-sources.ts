// ADD's extras over COPY: local tar archives (plain, gzip, bzip2, xz, zstd) are
// unpacked at the destination, through the image's symlinks as in a chroot there, and
// URLs are downloaded (with --checksum checked) and revalidated on the next build.
import * as fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { execFileText } from '../../exec-file.js';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NbuildError } from '../../errors.js';
import { copyXattrs, extractArchive, NativeError, sha256Hex } from '../../native/index.js';
import { userAgent } from '../../package-root.js';
import type { Store } from '../../store/store.js';
import type { StagedTree } from '../staging.js';
import { isoTime } from '../../iso-time.js';


const MAGICS: [number, number[]][] = [
  [0, [0x1f, 0x8b]], // gzip
  [0, [0x42, 0x5a, 0x68]], // bzip2
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]], // xz
  [0, [0x28, 0xb5, 0x2f, 0xfd]], // zstd
  [257, [0x75, 0x73, 0x74, 0x61, 0x72]], // "ustar"
];

/** True when the file is a tar, compressed or not (a compressed non-tar is copied as is). */
export async function isTarArchive(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(262);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const magic = MAGICS.some(([off, bytes]) => bytesRead >= off + bytes.length && bytes.every((b, i) => head[off + i] === b));
    if (!magic) return false;
  } finally {
    await fh.close();
  }
  // An archive has at least one entry (BuildKit: tar.Reader.Next() succeeds); GNU tar would
  // also accept a compressed stub as an empty archive. Stop listing after the first name.
  try {
    const { stdout } = await execFileText('sh', ['-c', 'tar -tf "$1" 2>/dev/null | head -n 1', 'sh', file]);
    return stdout.trim() !== '';
  } catch {
    return false;
  }
}

export interface UnpackOptions {
  /** The staging tree; its owner (--chown) is every entry's (implied folders stay root's), else the archive's ids are kept. */
  tree: StagedTree;
  /** A private folder for the extraction (beside the staging folder: same filesystem). */
  scratch: string;
  /** The build timestamp, for folders the archive only implies. */
  mtime?: number;
}

/**
 * ADD of an archive: unpacks it into the image folder `into` (resolved), as BuildKit does in a
 * chroot there: the folders an entry's path only implies are looked up through the links in the
 * staging tree over the image (`var/run/x` lands in /run/x when /var/run -> /run), inside
 * `into`; an entry replaces what is at its own name (a folder entry merges into a folder).
 * The archive is first unpacked into a private folder, then its entries are moved in place.
 */
export async function addArchive(file: string, into: string, opts: UnpackOptions): Promise<void> {
  const work = await fs.mkdtemp(path.join(opts.scratch, 'unpack-'));
  try {
    await unpackArchive(file, work, opts.scratch);
    await moveUnpacked(work, into, await folderEntries(file), opts);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * Unpacks an archive into the folder `dest` with every path resolved inside `dest` (the native
 * extractor): a link the archive makes never leads out. bzip2 and xz are first decompressed into
 * `scratchDir` (the extractor reads gzip, zstd and plain tar itself).
 */
export async function unpackArchive(file: string, dest: string, scratchDir: string, what = `ADD: cannot unpack ${path.basename(file)}`): Promise<void> {
  let input = file;
  try {
    const tool = await externalDecompressor(file);
    if (tool) {
      input = path.join(scratchDir, `unpacked-${sha256Hex(file).slice(0, 16)}.tar`);
      await decompressTo(tool, file, input);
    }
    await extractArchive({ inputPath: input, destDir: dest });
  } catch (error) {
    const why = error instanceof NativeError ? error.message : (error as Error).message.trim();
    throw new NbuildError('ADD_ARCHIVE', `${what}: ${why}`, { cause: error });
  } finally {
    if (input !== file) await fs.rm(input, { force: true });
  }
}

/** bzip2 or xz, which the native extractor does not read; undefined for the others. */
async function externalDecompressor(file: string): Promise<'bzip2' | 'xz' | undefined> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    await fh.read(head, 0, head.length, 0);
    if (head.subarray(0, 3).equals(Buffer.from([0x42, 0x5a, 0x68]))) return 'bzip2';
    if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    return undefined;
  } finally {
    await fh.close();
  }
}

async function decompressTo(tool: 'bzip2' | 'xz', file: string, out: string): Promise<void> {
  const child = spawn(tool, ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  await pipeline(child.stdout, createWriteStream(out, { mode: 0o600 }));
  const code = await exited;
  if (code !== 0) throw new Error(`${tool} -d failed: ${stderr.trim() || `exit ${code}`}`);
}

/** The folders an archive names as entries of their own (not only implies), '/'-separated, no `./`. */
async function folderEntries(file: string): Promise<Set<string>> {
  const { stdout } = await execFileText('tar', ['-tvf', file, '--numeric-owner', '--quoting-style=escape'], { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('d')) continue;
    const m = /^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+(.*)$/.exec(line);
    if (!m) continue;
    const name = unescapeTarName(m[1]).replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
    if (name !== '' && name !== '.') out.add(name);
  }
  return out;
}

/** GNU tar's escape quoting (`\\`, `\n`, `\303\244`) back to the name's bytes. */
function unescapeTarName(text: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { '\\': 0x5c, n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b, b: 0x08, a: 0x07, '?': 0x3f };
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length) {
      const oct = /^[0-7]{3}/.exec(text.slice(i + 1));
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        i += 3;
        continue;
      }
      const c = simple[text[i + 1]];
      if (c !== undefined) {
        bytes.push(c);
        i++;
        continue;
      }
    }
    bytes.push(...Buffer.from(text[i]));
  }
  return Buffer.from(bytes).toString('utf8');
}

async function moveUnpacked(work: string, into: string, folders: Set<string>, opts: UnpackOptions): Promise<void> {
  const { tree } = opts;
  const folderTimes: { at: string; mtime: Date }[] = [];
  const walk = async (rel: string, dir: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(work, rel))).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const from = path.join(work, childRel);
      const st = await fs.lstat(from);
      const target = path.posix.join(dir, name);
      const there = await tree.lstat(target);
      if (st.isDirectory() && !folders.has(childRel)) {
        // A folder the archive only implies: followed through a link there, made 0755 root's if missing.
        const real = await tree.resolveBelow(into, path.posix.relative(into, target));
        await tree.mkdirAll(real, { mode: 0o755, mtime: opts.mtime, rootOwned: true });
        await walk(childRel, real);
        continue;
      }
      const at = tree.staged(target);
      if (there?.staged && !(st.isDirectory() && there.st.isDirectory())) await fs.rm(at, { recursive: true, force: true });
      if (st.isDirectory()) {
        // A folder entry: made, or merged into the folder there, with the entry's metadata.
        if (!there?.staged || !there.st.isDirectory()) await fs.mkdir(at);
        await tree.setOwner(at, st);
        await fs.chmod(at, st.mode & 0o7777);
        copyXattrs(from, at);
        folderTimes.push({ at, mtime: st.mtime });
        await walk(childRel, target);
        continue;
      }
      await fs.rename(from, at); // keeps hard links between entries, and xattrs
      // The rename kept the archive's ids; a chown clears setuid and setgid bits: the mode is set again after it.
      if ((await tree.setOwner(at, st, st)) && !st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await fs.chmod(at, st.mode & 0o7777);
    }
  };
  await walk('', into);
  // Last, as tar does: adding entries changed the folders' mtimes.
  for (const { at, mtime } of folderTimes.reverse()) await fs.utimes(at, mtime, mtime);
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** The newest modification time (seconds) of the regular files in an archive (GNU tar reads any compression). */
export async function archiveMaxTime(file: string): Promise<number | undefined> {
  const { stdout } = await execFileText('tar', ['--full-time', '--utc', '-tvf', file], { maxBuffer: 256 * 1024 * 1024 });
  let newest: number | undefined;
  for (const line of stdout.split('\n')) {
    // -rw------- 0/0   3 2023-11-14 22:20:02 foo
    const m = /^-\S*\s+\S+\s+\d+\s+(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)/.exec(line);
    if (!m) continue;
    const seconds = Math.floor(Date.parse(`${m[1]}T${m[2]}Z`) / 1000);
    if (newest === undefined || seconds > newest) newest = seconds;
  }
  return newest;
}

/** A downloaded ADD source. */
export interface Downloaded {
  file: string;
  /** The name it gets in a destination folder: the URL path's last part (BuildKit's rule). */
  name: string;
  /** sha256 of the content. */
  digest: string;
  /** The content's digest in each algorithm --checksum may name. */
  digests: Record<string, string>;
  /** The server's Last-Modified, in seconds since the epoch (also the file's mtime). */
  lastModified?: number;
}

/** What the store remembers of a URL, to revalidate it on the next build. */
interface UrlRecord {
  url: string;
  etag?: string;
  lastModified?: string;
  digest: string;
}

/**
 * ADD's URLs for one build, as BuildKit's http source: the first build downloads a URL (its
 * content digest is the cache key); the next asks the server with a HEAD request whether it
 * changed (ETag) and, when not, keys the step by the digest it remembers, without a download.
 * A URL is downloaded at most once per build.
 */
export class UrlSources {
  private readonly downloads = new Map<string, Promise<Downloaded>>();

  constructor(
    private readonly store: Store,
    /** A folder that lives as long as the build. */
    private readonly dir: () => Promise<string>,
    /** What the URLs are for, at the start of an error: `ADD`, or `build context`. */
    private readonly what = 'ADD',
  ) {}

  /** The content digest of `url` for a cache key, asking the server as little as it can. */
  async digest(url: string, checksum?: string): Promise<string> {
    if (checksum) return checksum; // the content must match it: it is the key
    const known = this.downloads.get(url);
    if (known) return (await known).digest;
    const record = await this.record(url);
    if (record?.etag) {
      const answer = await this.unchanged(url, record.etag);
      // Offline, a rebuild keys the step by the last download (a cached step needs no server).
      if (answer !== 'changed') return record.digest;
    }
    return (await this.file(url)).digest;
  }

  /** The downloaded file (downloaded once per build). */
  file(url: string, checksum?: string): Promise<Downloaded> {
    let done = this.downloads.get(url);
    if (!done) {
      done = this.download(url);
      this.downloads.set(url, done);
    }
    return done.then((d) => {
      if (checksum && !Object.values(d.digests).includes(checksum)) throw new NbuildError('ADD_CHECKSUM', `ADD ${url}: checksum mismatch: expected ${checksum}, got ${d.digest}`);
      return d;
    });
  }

  private async unchanged(url: string, etag: string): Promise<'same' | 'changed' | 'unreachable'> {
    try {
      const res = await fetch(url, { method: 'HEAD', redirect: 'follow', headers: { 'user-agent': userAgent(), 'if-none-match': etag } });
      return res.status === 304 || (res.ok && res.headers.get('etag') === etag) ? 'same' : 'changed';
    } catch {
      return 'unreachable';
    }
  }

  private async download(url: string): Promise<Downloaded> {
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow', headers: { 'user-agent': userAgent() } });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      const hint = this.what === 'ADD' ? '; is this host offline? Put the file in the context and COPY it instead' : '; is this host offline?';
      throw new NbuildError('ADD_URL', `${this.what} ${url}: cannot download (${cause})${hint}`, { cause: error });
    }
    if (!response.ok || !response.body) throw new NbuildError('ADD_URL', `${this.what} ${url}: the server answered ${response.status} ${response.statusText}`);
    const file = path.join(await this.dir(), `url-${sha256Hex(url).slice(0, 16)}`);
    const hashes = { sha256: createHash('sha256'), sha384: createHash('sha384'), sha512: createHash('sha512') };
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      for (const h of Object.values(hashes)) h.update(chunk);
    });
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
    const digests = Object.fromEntries(Object.entries(hashes).map(([k, h]) => [k, `${k}:${h.digest('hex')}`]));
    const modified = response.headers.get('last-modified');
    const when = modified ? new Date(modified) : undefined;
    const lastModified = when && !Number.isNaN(when.getTime()) ? Math.floor(when.getTime() / 1000) : undefined;
    if (when && lastModified !== undefined) await fs.utimes(file, when, when);
    const etag = response.headers.get('etag') ?? undefined;
    await this.remember({ url, etag, lastModified: modified ?? undefined, digest: digests.sha256 });
    const last = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? '');
    return { file, name: last || '__unnamed__', digest: digests.sha256, digests, ...(lastModified !== undefined ? { lastModified } : {}) };
  }

  private key(url: string): string {
    return `add-url\0${url}`;
  }

  private async record(url: string): Promise<UrlRecord | undefined> {
    const r = await this.store.cacheGet(this.key(url));
    const c = r?.config as Partial<UrlRecord> | undefined;
    return c && c.url === url && typeof c.digest === 'string' ? (c as UrlRecord) : undefined;
  }

  private async remember(record: UrlRecord): Promise<void> {
    await this.store.cachePut(this.key(record.url), { config: record, createdAt: isoTime(Date.now()) });
  }
}
