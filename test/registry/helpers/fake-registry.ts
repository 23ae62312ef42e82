// An in-process OCI registry (node:http on 127.0.0.1) with an optional token server and
// fault injection: dropped connections, 429 with Retry-After, 500s, corrupted blobs, bodies
// dripped a byte at a time, and bodies that stall half way (the connection stays open).
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction = 'drop' | 'corrupt' | 'drop-mid-body' | 'drip' | 'stall' | { status: number; headers?: Record<string, string> };

export interface Fault {
  method?: string;
  /** A substring of the path. */
  path?: string;
  action: FaultAction;
  /** How many requests it hits (default 1). */
  times?: number;
}

export interface FakeRegistryOptions {
  /** 'bearer': a token server at /token; 'basic': Basic auth on /v2/. */
  auth?: 'none' | 'bearer' | 'basic';
  users?: Record<string, string>;
  /** Whether anonymous users may pull (bearer only). */
  anonymousPull?: boolean;
  /** The pause between two bytes of a 'drip' fault (default 200 ms). */
  dripMs?: number;
}

interface Logged {
  method: string;
  path: string;
  authorization?: string;
  status?: number;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly repoBlobs = new Map<string, Set<string>>();
  readonly manifests = new Map<string, { bytes: Buffer; mediaType: string }>(); // `repo@ref`
  readonly log: Logged[] = [];
  readonly tokenRequests: { scopes: string[]; user?: string }[] = [];
  faults: Fault[] = [];
  private readonly uploads = new Map<string, { repo: string; chunks: Buffer[] }>();
  private readonly tokens = new Map<string, Set<string>>();
  private server: http.Server | undefined;
  host = '';

  constructor(private readonly opts: FakeRegistryOptions = {}) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  addBlob(repo: string, bytes: Buffer): string {
    const d = sha(bytes);
    this.blobs.set(d, bytes);
    this.repo(repo).add(d);
    return d;
  }

  addManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): string {
    const d = sha(bytes);
    this.manifests.set(`${repo}@${ref}`, { bytes, mediaType });
    this.manifests.set(`${repo}@${d}`, { bytes, mediaType });
    return d;
  }

  count(method: string, pathPart: string): number {
    return this.log.filter((l) => l.method === method && l.path.includes(pathPart)).length;
  }

  private repo(name: string): Set<string> {
    let s = this.repoBlobs.get(name);
    if (!s) this.repoBlobs.set(name, (s = new Set()));
    return s;
  }

  private takeFault(method: string, path: string): FaultAction | undefined {
    const f = this.faults.find((x) => (!x.method || x.method === method) && (!x.path || path.includes(x.path)) && (x.times ?? 1) > 0);
    if (!f) return undefined;
    f.times = (f.times ?? 1) - 1;
    return f.action;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const entry: Logged = { method: req.method ?? 'GET', path: url.pathname + url.search, authorization: req.headers.authorization };
    this.log.push(entry);
    const body = await readAll(req);
    const fault = this.takeFault(entry.method, entry.path);
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (typeof fault === 'object') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected' }] }));
      return;
    }
    if (url.pathname === '/token') return this.token(req, url, res, fault === 'drip' || fault === 'stall' ? fault : undefined);
    const send = (status: number, headers: Record<string, string> = {}, data?: Buffer) => {
      entry.status = status;
      res.writeHead(status, headers);
      if (req.method !== 'HEAD' && data && (fault === 'drip' || fault === 'stall')) return this.slowBody(res, data, fault);
      res.end(req.method === 'HEAD' ? undefined : data);
    };
    const fail = (status: number, code: string) => send(status, { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] })));
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      if (!this.authorized(req, undefined)) return this.challenge(send, undefined);
      return send(200, {}, Buffer.from('{}'));
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (!m) return fail(404, 'NAME_UNKNOWN');
    const [, repo, kind, ref] = m;
    const push = !['GET', 'HEAD'].includes(entry.method);
    const scope = `repository:${repo}:${push ? 'push' : 'pull'}`;
    if (!this.authorized(req, scope)) return this.challenge(send, `repository:${repo}:${push ? 'pull,push' : 'pull'}`);
    if (kind === 'manifests') {
      if (entry.method === 'PUT') {
        const mediaType = String(req.headers['content-type'] ?? '');
        const d = this.addManifest(repo, ref, body, mediaType);
        return send(201, { 'docker-content-digest': d, location: `/v2/${repo}/manifests/${d}` });
      }
      const man = this.manifests.get(`${repo}@${ref}`);
      if (!man) return fail(404, 'MANIFEST_UNKNOWN');
      return send(200, { 'content-type': man.mediaType, 'docker-content-digest': sha(man.bytes), 'content-length': String(man.bytes.length) }, man.bytes);
    }
    if (ref.startsWith('uploads')) return this.upload(req, url, repo, ref, body, send, fail);
    const blob = this.repo(repo).has(ref) ? this.blobs.get(ref) : undefined;
    if (!blob) return fail(404, 'BLOB_UNKNOWN');
    if (fault === 'corrupt') {
      const bad = Buffer.from(blob);
      bad[0] ^= 0xff;
      return send(200, { 'content-length': String(bad.length) }, bad);
    }
    if (fault === 'drop-mid-body') {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.write(blob.subarray(0, Math.floor(blob.length / 2)));
      setTimeout(() => req.socket.destroy(), 10);
      return;
    }
    return send(200, { 'content-length': String(blob.length), 'docker-content-digest': ref }, blob);
  }

  // 'drip': one byte every dripMs (each byte resets an idle timer); 'stall': half the body, then
  // nothing more on an open connection.
  private slowBody(res: http.ServerResponse, data: Buffer, how: 'drip' | 'stall'): void {
    if (how === 'stall') {
      res.write(data.subarray(0, Math.floor(data.length / 2)));
      return;
    }
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= data.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(data.subarray(at, ++at));
    }, this.opts.dripMs ?? 200);
    res.on('close', () => clearInterval(timer));
  }

  private upload(req: http.IncomingMessage, url: URL, repo: string, ref: string, body: Buffer, send: (s: number, h?: Record<string, string>, d?: Buffer) => void, fail: (s: number, c: string) => void): void {
    const method = req.method ?? '';
    if (method === 'POST') {
      const mount = url.searchParams.get('mount');
      const from = url.searchParams.get('from');
      if (mount && from && this.repo(from).has(mount) && this.authorized(req, `repository:${from}:pull`)) {
        this.repo(repo).add(mount);
        return send(201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
      }
      const id = randomBytes(8).toString('hex');
      this.uploads.set(id, { repo, chunks: [] });
      return send(202, { location: `/v2/${repo}/blobs/uploads/${id}?state=s0`, range: '0-0', 'docker-upload-uuid': id });
    }
    const id = ref.split('/')[1] ?? '';
    const up = this.uploads.get(id);
    if (!up) return fail(404, 'BLOB_UPLOAD_UNKNOWN');
    if (body.length > 0) up.chunks.push(body);
    const have = up.chunks.reduce((n, c) => n + c.length, 0);
    if (method === 'PATCH') return send(202, { location: `/v2/${repo}/blobs/uploads/${id}?state=s${have}`, range: `0-${have - 1}` });
    if (method === 'PUT') {
      const all = Buffer.concat(up.chunks);
      const want = url.searchParams.get('digest');
      this.uploads.delete(id);
      if (sha(all) !== want) return fail(400, 'DIGEST_INVALID');
      this.addBlob(repo, all);
      return send(201, { location: `/v2/${repo}/blobs/${want}`, 'docker-content-digest': want });
    }
    return fail(405, 'UNSUPPORTED');
  }

  private authorized(req: http.IncomingMessage, scope: string | undefined): boolean {
    const mode = this.opts.auth ?? 'none';
    if (mode === 'none') return true;
    const header = req.headers.authorization ?? '';
    if (mode === 'basic') return this.basicUser(header) !== undefined;
    if (!header.startsWith('Bearer ')) return false;
    const granted = this.tokens.get(header.slice(7));
    if (!granted) return false;
    return scope === undefined || granted.has(scope);
  }

  private challenge(send: (s: number, h?: Record<string, string>, d?: Buffer) => void, scope: string | undefined): void {
    const mode = this.opts.auth ?? 'none';
    const header = mode === 'basic'
      ? 'Basic realm="fake"'
      : `Bearer realm="http://${this.host}/token",service="fake-registry"${scope ? `,scope="${scope}"` : ''}`;
    send(401, { 'www-authenticate': header, 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] })));
  }

  private basicUser(header: string): string | undefined {
    if (!header.startsWith('Basic ')) return undefined;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
    return this.opts.users?.[user] === rest.join(':') ? user : undefined;
  }

  private token(req: http.IncomingMessage, url: URL, res: http.ServerResponse, slow?: 'drip' | 'stall'): void {
    const user = this.basicUser(req.headers.authorization ?? '');
    if (req.headers.authorization && !user) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    this.tokenRequests.push({ scopes, user });
    const granted = new Set<string>();
    for (const s of scopes) {
      const [type, name, actions] = s.split(':');
      for (const a of (actions ?? '').split(',')) {
        if (user || (a === 'pull' && this.opts.anonymousPull)) granted.add(`${type}:${name}:${a}`);
      }
    }
    const token = randomBytes(12).toString('hex');
    this.tokens.set(token, granted);
    res.writeHead(200, { 'content-type': 'application/json' });
    const answer = Buffer.from(JSON.stringify({ token, expires_in: 300 }));
    if (slow) this.slowBody(res, answer, slow);
    else res.end(answer);
  }
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}
