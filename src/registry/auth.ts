// Registry authentication: WWW-Authenticate challenges, Bearer tokens per scope
// (distribution's token spec, docs.docker.com/registry/spec/auth/token), Basic, anonymous.
// Credentials only ever go into request headers, never into messages.
import { RegistryError } from '../errors.js';
import { errorFromResponse, headerValue, readBody, send, timeoutError, timeoutOf, type HttpResponse, type TransportOptions } from './http.js';

/** Credentials: a user and password, or an identity (refresh) token, or a ready registry token. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface Challenge {
  scheme: string; // lower case: 'bearer' | 'basic' | …
  params: Record<string, string>;
}

/** parseChallenges reads `Bearer realm="…",service="…",scope="…"` (several challenges allowed). */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i])) i++;
  };
  const word = () => {
    const start = i;
    while (i < n && !' \t,="'.includes(header[i])) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skip(' \t,');
    const name = word();
    if (!name) {
      i++;
      continue;
    }
    skip(' \t');
    if (header[i] !== '=') {
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i++;
    skip(' \t');
    let value = '';
    if (header[i] === '"') {
      for (i++; i < n && header[i] !== '"'; i++) value += header[i] === '\\' && i + 1 < n ? header[++i] : header[i];
      i++;
    } else value = word();
    if (current) current.params[name.toLowerCase()] = value;
  }
  return out;
}

/** scopeFor builds a token scope: `repository:NAME:pull` or `…:pull,push`. */
export function scopeFor(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}

interface TokenAnswer {
  token?: string;
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/** Authenticator answers "which Authorization header for these scopes" for one registry host. */
export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | undefined,
    private readonly transport: TransportOptions,
  ) {}

  /** setChallenge records what the registry asked for (from /v2/ or from a 401). */
  setChallenge(header: string | undefined): boolean {
    const challenges = parseChallenges(header);
    const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    this.challenge = chosen;
    return true;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** invalidate forgets a token the registry refused, so the next call asks again. */
  invalidate(scopes: string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  /** authorization returns the header value for a request needing `scopes`, or undefined (anonymous). */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.basic();
    if (challenge.scheme !== 'bearer') return undefined;
    if (this.credentials?.registryToken) return `Bearer ${this.credentials.registryToken}`;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.value}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const token = await pending;
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  private basic(): string | undefined {
    const c = this.credentials;
    if (!c?.username || c.password === undefined) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.registry}: Bearer challenge without a realm`);
    const url = new URL(realm);
    const service = challenge.params.service;
    const what = `${this.registry}: token for ${scopes.join(' ') || 'registry'}`;
    // A token is a small read: all of it within the request budget (timeouts.ts).
    const deadline = Date.now() + (this.transport.requestMs ?? 60_000);
    let res: HttpResponse;
    try {
      res = this.credentials?.identityToken
        ? await this.oauthRefresh(url, service, scopes, this.credentials.identityToken, deadline)
        : await this.tokenGet(url, service, scopes, deadline);
    } catch (err) {
      const timeout = timeoutOf(err);
      throw timeout ? timeoutError(what, timeout) : err;
    }
    if (res.status !== 200) throw await errorFromResponse(res, what);
    const answer = JSON.parse((await readBody(res, 1 << 20, what)).toString('utf8')) as TokenAnswer;
    const value = answer.token ?? answer.access_token;
    if (!value) throw new RegistryError(`${this.registry}: the token server answered without a token`);
    // Default lifetime per the token spec is 60 s; renew a little early.
    const lifetime = (answer.expires_in && answer.expires_in > 0 ? answer.expires_in : 60) * 1000;
    return { value, expiresAt: Date.now() + lifetime - Math.min(10_000, lifetime / 4) };
  }

  private tokenGet(url: URL, service: string | undefined, scopes: string[], deadline: number) {
    if (service) url.searchParams.set('service', service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    const basic = this.basic();
    if (basic) headers.authorization = basic;
    return send({ method: 'GET', url, headers, deadline }, this.transport);
  }

  private oauthRefresh(url: URL, service: string | undefined, scopes: string[], refreshToken: string, deadline: number) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'nbuild' });
    if (service) form.set('service', service);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const body = Buffer.from(form.toString());
    return send({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, deadline }, this.transport);
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

/** challengeScopes returns the scope a 401 names (insufficient_scope answers), if any. */
export function challengeScope(header: string | undefined): string | undefined {
  return parseChallenges(header).find((c) => c.scheme === 'bearer')?.params.scope;
}

export { headerValue };
