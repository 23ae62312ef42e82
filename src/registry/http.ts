// One HTTP exchange with a registry, over node:http/https. No retries and no auth
// here (see retry.ts and auth.ts): this layer only sends, follows redirects safely,
// enforces the timeouts (timeouts.ts) and turns error answers into RegistryError.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { userAgent } from '../package-root.js';
import { describeTimeout } from './timeouts.js';
import { proxyFor, viaProxy } from './proxy.js';
import { trustOptions } from './trust.js';

/** A request body that can be sent again (retries, redirects): bytes, or a factory of streams. */
export type Body = Buffer | { length: number; open: () => Readable };

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Body;
  /** Epoch ms by which the whole exchange, the answer's body included, must be over. */
  deadline?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The final URL, after redirects. */
  url: URL;
  /** MUST be consumed or destroyed by the caller. */
  body: http.IncomingMessage;
}

export interface TransportOptions {
  /** false: accept self-signed and expired certificates. */
  tlsVerify: boolean;
  userAgent?: string;
  /** No byte for this long (connecting, waiting, reading): a retryable stall. Default 30 s. */
  stallMs?: number;
  /** The budget of a small read (a token here; the client sets the others' deadlines). Default 60 s. */
  requestMs?: number;
  /** Aborting it cuts the exchange (the answer's body too) with the signal's reason. */
  signal?: AbortSignal;
}

/** Why an exchange was cut: nothing came for stallMs, or the deadline passed. */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly kind: 'stall' | 'deadline', ms: number) {
    super(kind === 'stall' ? `stalled: no data for ${describeTimeout(ms, 'stall')}` : `no complete answer within ${describeTimeout(ms, 'request')}`);
  }
}

/** A RegistryError for a timeout, naming `what` (and what was being done): a stall is worth another try, a passed deadline is not. */
export function timeoutError(what: string, err: TimeoutError, doing?: string): RegistryError {
  return new RegistryError(`${what}: ${doing ? `${doing} ` : ''}${err.message}`, { temporary: err.kind === 'stall', codes: [err.kind === 'stall' ? 'STALLED' : 'TIMEOUT'], cause: err });
}

/** The TimeoutError behind an error, if one is. */
export function timeoutOf(err: unknown): TimeoutError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof TimeoutError) return e;
  return undefined;
}

const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 * 1024;
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const insecureAgent = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false });
let verifyingAgent: https.Agent | undefined;
// Made on first use: the certificates it trusts may be read then (trust.ts).
const httpsAgent = (): https.Agent => (verifyingAgent ??= new https.Agent({ keepAlive: true, maxSockets: 16, ...trustOptions() }));

/** send performs one request and follows redirects. Authorization is dropped when a redirect leaves the origin
 *  (blob storage such as S3 answers with pre-signed URLs and rejects a second credential). */
export async function send(req: HttpRequest, opts: TransportOptions): Promise<HttpResponse> {
  let url = req.url;
  let method = req.method;
  let headers = { ...req.headers };
  let body = req.body;
  for (let hop = 0; ; hop++) {
    const res = await sendOnce({ method, url, headers, body, deadline: req.deadline }, opts);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || !location || method === 'POST' || method === 'PATCH') {
      return res;
    }
    res.body.resume();
    if (hop >= MAX_REDIRECTS) throw new RegistryError(`too many redirects from ${redactUrl(req.url)}`);
    const next = new URL(location, url);
    if (next.origin !== url.origin) {
      const { authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
    if (res.status === 303) {
      method = 'GET';
      body = undefined;
    }
    url = next;
  }
}

function sendOnce(req: HttpRequest, opts: TransportOptions): Promise<HttpResponse> {
  const isHttps = req.url.protocol === 'https:';
  const mod = isHttps ? https : http;
  const proxy = proxyFor(req.url);
  const proxied = proxy && viaProxy(req.url, proxy, opts.tlsVerify);
  const agent = proxied ? proxied.agent : isHttps ? (opts.tlsVerify ? httpsAgent() : insecureAgent) : httpAgent;
  const headers: Record<string, string> = { 'user-agent': opts.userAgent ?? userAgent(), ...req.headers, ...(proxied && 'headers' in proxied ? proxied.headers : {}) };
  const body = req.body;
  if (body !== undefined) headers['content-length'] = String(body.length);
  else if (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH') headers['content-length'] = '0';
  const signal = opts.signal;
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    let answer: http.IncomingMessage | undefined;
    const cut = (err: Error): void => {
      if (answer) answer.destroy(err);
      else r.destroy(err);
    };
    const abort = (): void => cut(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', abort, { once: true });
    const unlisten = (): void => signal?.removeEventListener('abort', abort);
    const stallMs = opts.stallMs ?? 30_000;
    const left = req.deadline === undefined ? undefined : Math.max(0, req.deadline - Date.now());
    const deadline = left === undefined ? undefined : setTimeout(() => cut(new TimeoutError('deadline', opts.requestMs ?? left)), left);
    const onResponse = (res: http.IncomingMessage): void => {
      answer = res;
      res.once('close', () => {
        clearTimeout(deadline);
        unlisten();
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, url: req.url, body: res });
    };
    // Plain http through a proxy: the proxy is asked for the absolute URL.
    const r = proxied && 'request' in proxied
      ? http.request({ ...proxied.request, method: req.method, headers, agent }, onResponse)
      : mod.request(req.url, { method: req.method, headers, agent }, onResponse);
    // The socket's idle timer also runs while the answer's body is read.
    r.setTimeout(stallMs, () => cut(new TimeoutError('stall', stallMs)));
    r.on('error', (err) => {
      clearTimeout(deadline);
      unlisten();
      reject(signal?.aborted ? signal.reason : networkError(req, err));
    });
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      const stream = body.open();
      stream.on('error', (err) => r.destroy(err));
      stream.pipe(r);
    }
  });
}

/** A failure below HTTP (reset, refused, TLS, timeout). Resets and timeouts are temporary. */
export function networkError(req: HttpRequest, err: Error): RegistryError {
  if (err instanceof TimeoutError) return timeoutError(`${req.method} ${redactUrl(req.url)}`, err);
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const temporary = ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(code) || /socket hang up/.test(err.message);
  return new RegistryError(`${req.method} ${redactUrl(req.url)}: ${err.message}`, { temporary, codes: code ? [code] : [], cause: err });
}

/** readBody reads a (small) response body fully, refusing more than `limit` bytes. `what` names it in errors. */
export async function readBody(res: HttpResponse, limit: number, what = redactUrl(res.url)): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        res.body.destroy();
        throw new RegistryError(`response from ${redactUrl(res.url)} is larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    const timeout = timeoutOf(err);
    if (timeout) throw timeoutError(what, timeout);
    // A connection dropped mid-answer is worth another try.
    throw new RegistryError(`${what}: the answer broke off: ${(err as Error).message}`, { temporary: true, cause: err });
  }
  return Buffer.concat(chunks);
}

interface ErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/** errorFromResponse turns an unexpected answer into a RegistryError that names `what` (a reference or blob,
 *  never credentials). 408, 429 and 5xx are temporary; the spec's error codes are kept. */
export async function errorFromResponse(res: HttpResponse, what: string): Promise<RegistryError> {
  let codes: string[] = [];
  let detail = '';
  try {
    const text = (await readBody(res, MAX_ERROR_BODY)).toString('utf8');
    const parsed = JSON.parse(text) as ErrorBody;
    codes = (parsed.errors ?? []).map((e) => e.code ?? '').filter((c) => c !== '');
    detail = (parsed.errors ?? []).map((e) => `${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`).join('; ');
  } catch {
    res.body.destroy();
  }
  const status = res.status;
  const temporary = status === 408 || status === 429 || status >= 500 || codes.includes('TOOMANYREQUESTS');
  const message = `${describeStatus(status, what)}${detail ? ` (${detail})` : ''}`;
  return new RegistryError(message, { status, codes, temporary });
}

function describeStatus(status: number, what: string): string {
  switch (status) {
    case 401:
      return `${what}: authentication required or credentials rejected (401); run \`nbuild login\` for this registry`;
    case 403:
      return `${what}: access denied (403)`;
    case 404:
      return `${what}: not found (404)`;
    case 429:
      return `${what}: too many requests (429)`;
    default:
      return `${what}: registry answered ${status}`;
  }
}

/** redactUrl keeps scheme, host and path; query strings can hold pre-signed secrets. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

/** headerValue returns one header as a string (the first if repeated). */
export function headerValue(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
