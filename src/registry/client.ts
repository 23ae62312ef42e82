// The OCI distribution-spec client for one registry host: ping, auth, manifests, blobs,
// uploads and mounts. Every operation is retried as a whole on temporary failures, so
// each one starts from scratch (new temp file, new upload session).
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { RegistryError } from '../errors.js';
import { Authenticator, challengeScope, scopeFor, type Credentials } from './auth.js';
import { errorFromResponse, headerValue, readBody, send, timeoutError, timeoutOf, type Body, type HttpResponse, type TransportOptions } from './http.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { RetryAfterError, defaultRetryPolicy, parseRetryAfter, withRetry, type RetryPolicy } from './retry.js';
import { registryTimeouts, type RegistryTimeouts } from './timeouts.js';
import { Digest } from '../image/digest.js';
import { sha256 } from '../native/index.js';

export interface ClientOptions {
  /** host[:port] as it appears in references (docker.io is mapped to registry-1.docker.io). */
  registry: string;
  /** Allow plain HTTP and unverified TLS (an insecure registry, or --tls-verify=false). */
  insecure?: boolean;
  credentials?: Credentials;
  retry?: RetryPolicy;
  userAgent?: string;
  /** Chunk size for PATCH uploads; blobs up to this size go in one PUT. */
  chunkSize?: number;
  /** Defaults from NBUILD_REGISTRY_TIMEOUT / NBUILD_REGISTRY_STALL_TIMEOUT (timeouts.ts). */
  timeouts?: Partial<RegistryTimeouts>;
  /** Cuts the request in flight and stops retrying; requests then fail with its reason. */
  signal?: AbortSignal;
}

export interface ManifestAnswer {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface BlobProgress {
  (bytes: number): void;
}

interface Call {
  method: string;
  /** A path under the origin (e.g. /v2/lib/x/manifests/tag) or an absolute Location from the registry. */
  path: string;
  scopes: string[];
  what: string;
  expect: number[];
  headers?: Record<string, string>;
  body?: Body;
  /** Epoch ms by which a small read must be over (see small()). */
  deadline?: number;
}

const MAX_MANIFEST = 4 << 20;
const DEFAULT_CHUNK = 16 << 20;

/** RegistryClient talks to one registry. Instances cache the scheme and tokens; share one per host. */
export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private readonly insecure: boolean;
  private readonly transport: TransportOptions;
  private readonly auth: Authenticator;
  private readonly retry: RetryPolicy;
  private readonly chunkSize: number;
  private readonly timeouts: RegistryTimeouts;
  private origin: Promise<URL> | undefined;
  private readonly signal: AbortSignal | undefined;

  constructor(opts: ClientOptions) {
    this.registry = opts.registry;
    this.host = opts.registry === 'docker.io' ? 'registry-1.docker.io' : opts.registry;
    this.insecure = opts.insecure ?? false;
    this.timeouts = { ...registryTimeouts(), ...opts.timeouts };
    this.signal = opts.signal;
    this.transport = { tlsVerify: !this.insecure, userAgent: opts.userAgent, stallMs: this.timeouts.stallMs, requestMs: this.timeouts.requestMs, signal: opts.signal };
    this.auth = new Authenticator(opts.registry, opts.credentials, this.transport);
    this.retry = opts.retry ?? defaultRetryPolicy;
    this.chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  }

  /** ping finds the scheme (https, then http when insecure) and the auth challenge of /v2/. */
  ping(): Promise<URL> {
    this.origin ??= this.small((deadline) => this.pingOnce(deadline)).catch((err: unknown) => {
      this.origin = undefined;
      throw err;
    });
    return this.origin;
  }

  private async pingOnce(deadline: number): Promise<URL> {
    const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const origin = new URL(`${scheme}//${this.host}`);
      let res: HttpResponse;
      try {
        res = await send({ method: 'GET', url: new URL('/v2/', origin), deadline }, this.transport);
      } catch (err) {
        lastError = err;
        continue;
      }
      res.body.resume();
      if (res.status === 401) this.auth.setChallenge(headerValue(res, 'www-authenticate'));
      else if (res.status !== 200) {
        throw await errorFromResponse(res, `${this.registry}: /v2/ (is this an OCI registry?)`);
      }
      return origin;
    }
    if (lastError instanceof RegistryError) {
      throw new RegistryError(`cannot reach registry ${this.registry}: ${lastError.message}`, {
        temporary: lastError.temporary,
        cause: lastError,
      });
    }
    throw lastError;
  }

  /** call sends one request with auth; a 401 renews the token (or takes the new challenge) once. */
  private async call(c: Call): Promise<HttpResponse> {
    const origin = await this.ping();
    const url = new URL(c.path, origin);
    for (let authTry = 0; ; authTry++) {
      const headers = { ...c.headers };
      const authorization = await this.auth.authorization(c.scopes);
      if (authorization) headers.authorization = authorization;
      let res: HttpResponse;
      try {
        res = await send({ method: c.method, url, headers, body: c.body, deadline: c.deadline }, this.transport);
      } catch (err) {
        const timeout = timeoutOf(err);
        throw timeout ? timeoutError(c.what, timeout) : err;
      }
      if (res.status === 401 && authTry === 0) {
        const challenge = headerValue(res, 'www-authenticate');
        res.body.resume();
        this.auth.invalidate(c.scopes);
        const extra = challengeScope(challenge);
        if (extra && !c.scopes.includes(extra)) c = { ...c, scopes: [...c.scopes, extra] };
        if (this.auth.setChallenge(challenge)) continue;
      }
      if (c.expect.includes(res.status)) return res;
      const err = await errorFromResponse(res, c.what);
      const after = parseRetryAfter(headerValue(res, 'retry-after'));
      throw after !== undefined && err.temporary ? new RetryAfterError(err, after) : err;
    }
  }

  private retried<T>(op: () => Promise<T>): Promise<T> {
    return withRetry(op, this.retry, this.signal);
  }

  /** A small read (or a manifest write): all of it, retries included, within timeouts.requestMs. */
  private small<T>(op: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeouts.requestMs;
    return withRetry(() => op(deadline), this.retry, this.signal, deadline);
  }

  /** checkAuth proves the credentials work (for login): /v2/ answered with them, token or Basic. */
  async checkAuth(): Promise<void> {
    await this.ping();
    if (this.auth.scheme === undefined) return; // the registry asks for nothing
    const res = await this.small((deadline) => this.call({ method: 'GET', path: '/v2/', scopes: [], what: `${this.registry}`, expect: [200], deadline }));
    res.body.resume();
  }

  /** getManifest fetches a manifest or index by tag or digest and checks its digest. */
  getManifest(repo: string, reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestAnswer> {
    const what = `${this.registry}/${repo}${refSuffix(reference)}`;
    return this.small(async (deadline) => {
      const res = await this.call({
        method: 'GET', path: `/v2/${repo}/manifests/${reference}`, scopes: [scopeFor(repo, false)], what,
        expect: [200], headers: { accept: accept.join(', ') }, deadline,
      });
      const bytes = await readBody(res, MAX_MANIFEST, what);
      const digest = Digest.of(bytes).toString();
      const claimed = headerValue(res, 'docker-content-digest');
      if (reference.includes(':') && reference !== digest) {
        throw new RegistryError(`${what}: the registry sent a manifest with digest ${digest}`);
      }
      if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
        throw new RegistryError(`${what}: manifest digest ${digest} does not match Docker-Content-Digest ${claimed}`);
      }
      const mediaType = (headerValue(res, 'content-type') ?? '').split(';')[0].trim() || mediaTypeOf(bytes);
      return { bytes, mediaType, digest };
    });
  }

  /** headManifest returns the digest of a tag (or undefined when the registry has no such manifest). */
  headManifest(repo: string, reference: string): Promise<{ digest: string; mediaType: string; size: number } | undefined> {
    const what = `${this.registry}/${repo}${refSuffix(reference)}`;
    return this.small(async (deadline) => {
      const res = await this.call({
        method: 'HEAD', path: `/v2/${repo}/manifests/${reference}`, scopes: [scopeFor(repo, false)], what,
        expect: [200, 404], headers: { accept: MANIFEST_ACCEPT.join(', ') }, deadline,
      });
      res.body.resume();
      if (res.status === 404) return undefined;
      const digest = headerValue(res, 'docker-content-digest');
      if (!digest) return undefined;
      return { digest, mediaType: headerValue(res, 'content-type') ?? '', size: Number(headerValue(res, 'content-length') ?? 0) };
    });
  }

  /** fetchBlob streams a blob into `dest`, hashing as it goes. On a digest or size mismatch the
   *  file is deleted and the error is permanent: the bytes are never stored. A `small` blob (an
   *  image config) is a small read, with its deadline; any other may take as long as bytes flow. */
  fetchBlob(repo: string, digest: string, dest: string, opts: { size?: number; onProgress?: BlobProgress; small?: boolean } = {}): Promise<void> {
    const what = `${this.registry}/${repo}@${digest}`;
    const attempt = async (deadline?: number): Promise<void> => {
      const res = await this.call({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [scopeFor(repo, false)], what, expect: [200], deadline });
      const hash = sha256();
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          opts.onProgress?.(chunk.length);
          done(null, chunk);
        },
      });
      try {
        await pipeline(res.body, meter, fs.createWriteStream(dest, { mode: 0o644 }));
      } catch (err) {
        await fsp.rm(dest, { force: true });
        this.signal?.throwIfAborted();
        const timeout = timeoutOf(err);
        if (timeout) throw timeoutError(what, timeout, timeout.kind === 'stall' ? 'download' : undefined);
        // A connection dropped mid-body is worth another try.
        throw new RegistryError(`${what}: download interrupted: ${(err as Error).message}`, { temporary: true, cause: err });
      }
      const got = `sha256:${hash.hex()}`;
      if (got !== digest || (opts.size !== undefined && size !== opts.size)) {
        await fsp.rm(dest, { force: true });
        throw new RegistryError(`${what}: refused the blob: got ${got} (${size} bytes), expected ${digest}${opts.size !== undefined ? ` (${opts.size} bytes)` : ''}`, { codes: ['DIGEST_INVALID'] });
      }
    };
    return opts.small ? this.small(attempt) : this.retried(() => attempt());
  }

  /** hasBlob asks with HEAD; push uses it to skip blobs the registry holds. */
  hasBlob(repo: string, digest: string): Promise<boolean> {
    return this.small(async (deadline) => {
      const res = await this.call({
        method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [scopeFor(repo, true)],
        what: `${this.registry}/${repo}@${digest}`, expect: [200, 404], deadline,
      });
      res.body.resume();
      return res.status === 200;
    });
  }

  /** uploadBlob sends a blob, trying a cross-repository mount first when `mountFrom` names a repository
   *  of the same registry that has it. Small blobs go in one PUT, larger ones in PATCH chunks. */
  uploadBlob(repo: string, blob: { digest: string; size: number; path: string }, opts: { mountFrom?: string; onProgress?: BlobProgress } = {}): Promise<'mounted' | 'uploaded'> {
    const what = `${this.registry}/${repo}@${blob.digest}`;
    return this.retried(async () => {
      const scopes = [scopeFor(repo, true)];
      let path = `/v2/${repo}/blobs/uploads/`;
      if (opts.mountFrom && opts.mountFrom !== repo) {
        scopes.push(scopeFor(opts.mountFrom, false));
        path += `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
      }
      const started = await this.call({ method: 'POST', path, scopes, what, expect: [201, 202] });
      started.body.resume();
      if (started.status === 201) return 'mounted';
      let location = uploadLocation(started, what);
      if (blob.size > this.chunkSize) location = await this.patchChunks(location, scopes, blob, what, opts.onProgress);
      const put = new URL(location, started.url);
      put.searchParams.set('digest', blob.digest);
      const body: Body | undefined = blob.size > this.chunkSize ? undefined : fileBody(blob.path, 0, blob.size);
      const done = await this.call({
        method: 'PUT', path: put.toString(), scopes, what, expect: [201, 204],
        headers: { 'content-type': 'application/octet-stream' }, body,
      });
      done.body.resume();
      if (body) opts.onProgress?.(blob.size);
      return 'uploaded';
    });
  }

  private async patchChunks(location: string, scopes: string[], blob: { size: number; path: string }, what: string, onProgress?: BlobProgress): Promise<string> {
    for (let offset = 0; offset < blob.size; offset += this.chunkSize) {
      const end = Math.min(offset + this.chunkSize, blob.size);
      const res = await this.call({
        method: 'PATCH', path: location, scopes, what, expect: [202],
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}` },
        body: fileBody(blob.path, offset, end - offset),
      });
      res.body.resume();
      location = new URL(uploadLocation(res, what), res.url).toString();
      onProgress?.(end - offset);
    }
    return location;
  }

  /** putManifest uploads a manifest under a tag or its digest and returns its digest. */
  putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const what = `${this.registry}/${repo}${refSuffix(reference)}`;
    return this.small(async (deadline) => {
      const res = await this.call({
        method: 'PUT', path: `/v2/${repo}/manifests/${reference}`, scopes: [scopeFor(repo, true)], what,
        expect: [201, 200, 204], headers: { 'content-type': mediaType }, body: bytes, deadline,
      });
      res.body.resume();
      return Digest.of(bytes).toString();
    });
  }
}

function uploadLocation(res: HttpResponse, what: string): string {
  const location = headerValue(res, 'location');
  if (!location) throw new RegistryError(`${what}: the registry started an upload without a Location`);
  return new URL(location, res.url).toString();
}

function fileBody(path: string, start: number, length: number): Body {
  return { length, open: () => fs.createReadStream(path, { start, end: start + length - 1 }) };
}

function refSuffix(reference: string): string {
  return reference.includes(':') ? `@${reference}` : `:${reference}`;
}

/** mediaTypeOf reads the mediaType field when the registry sent no usable Content-Type. */
function mediaTypeOf(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : '';
  } catch {
    return '';
  }
}
