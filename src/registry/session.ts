// What pull and push share: the registries configuration, credentials lookup and one
// RegistryClient per registry host (so the scheme probe and tokens are reused).
import { setMaxListeners } from 'node:events';
import type { Credentials } from './auth.js';
import { authFilePaths, lookupCredentials } from './auth-config.js';
import { RegistryClient } from './client.js';
import { loadRegistriesConfig, resolveEndpoints, type Endpoint, type RegistriesConfig } from './registries-config.js';
import type { RetryPolicy } from './retry.js';
import type { RegistryTimeouts } from './timeouts.js';

export interface SessionOptions {
  /** false: plain HTTP and unverified TLS for every registry of this command. */
  tlsVerify?: boolean;
  /** Defaults to the files of configPaths(). */
  registriesConfig?: RegistriesConfig;
  /** Defaults to authFilePaths(). */
  authFiles?: string[];
  /** `--creds USER[:PASSWORD]`: used for every registry of this command instead of the auth files. */
  credentials?: Credentials;
  retry?: RetryPolicy;
  chunkSize?: number;
  /** Defaults from the environment (timeouts.ts). */
  timeouts?: Partial<RegistryTimeouts>;
  /** Aborts every request of the session at once (SIGINT/SIGTERM: src/interrupt.ts); its reason is what they throw. */
  signal?: AbortSignal;
}

export class RegistrySession {
  readonly config: RegistriesConfig;
  private readonly clients = new Map<string, Promise<RegistryClient>>();

  constructor(private readonly opts: SessionOptions = {}) {
    this.config = opts.registriesConfig ?? loadRegistriesConfig();
    // Each request in flight listens on the signal (http.ts); a build's pulls and pushes have dozens at once.
    if (opts.signal) setMaxListeners(256, opts.signal);
  }

  /** endpoints lists where `registry/repository` is pulled from (mirrors first) or pushed to. */
  endpoints(registry: string, repository: string, mode: { push: boolean; byDigest: boolean }): Endpoint[] {
    return resolveEndpoints(this.config, registry, repository, { ...mode, tlsVerify: this.opts.tlsVerify });
  }

  /** client returns the shared client for an endpoint, with the credentials stored for it. */
  client(ep: Endpoint): Promise<RegistryClient> {
    const key = `${ep.registry}|${ep.insecure}`;
    let c = this.clients.get(key);
    if (!c) {
      c = this.credentials(ep).then((credentials) => new RegistryClient({
        registry: ep.registry,
        insecure: ep.insecure,
        credentials,
        retry: this.opts.retry,
        chunkSize: this.opts.chunkSize,
        timeouts: this.opts.timeouts,
        signal: this.opts.signal,
      }));
      this.clients.set(key, c);
    }
    return c;
  }

  private credentials(ep: Endpoint): Promise<Credentials | undefined> {
    if (this.opts.credentials) return Promise.resolve(this.opts.credentials);
    return lookupCredentials(ep.registry, ep.repository, this.opts.authFiles ?? authFilePaths());
  }
}

/** mapLimit runs `fn` over `items` with at most `limit` at once; the first failure rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
