// HTTP proxies for nbuild's own registry traffic (pulls, pushes, tokens), read from the
// environment as Go's net/http (and so docker, skopeo, podman) reads it: HTTPS_PROXY / https_proxy
// for https URLs, HTTP_PROXY / http_proxy for http ones, NO_PROXY / no_proxy to go direct, and
// loopback hosts never proxied. https goes through a CONNECT tunnel; http is sent to the proxy
// with the absolute URL.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { trustOptions } from './trust.js';
import { NbuildError } from '../errors.js';

const env = (e: NodeJS.ProcessEnv, ...names: string[]): string => {
  for (const n of names) if (e[n]) return e[n] as string;
  return '';
};

/** The proxy to use for `url`, or undefined to connect directly. */
export function proxyFor(url: URL, e: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = url.protocol === 'https:' ? env(e, 'HTTPS_PROXY', 'https_proxy') : env(e, 'HTTP_PROXY', 'http_proxy');
  if (!raw) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host) || bypassed(host, url.port || (url.protocol === 'https:' ? '443' : '80'), env(e, 'NO_PROXY', 'no_proxy'))) return undefined;
  return parseProxy(raw, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}

function parseProxy(raw: string, name: string): URL {
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new NbuildError('PROXY', `${name}: ${raw} is not a URL`);
  }
  if (proxy.protocol !== 'http:') throw new NbuildError('PROXY', `${name}: proxy ${proxy.protocol}//${proxy.host}: only http:// proxies are supported`);
  return proxy;
}

/** Refuses, before any request, a proxy of the environment nbuild cannot use (one line). */
export function checkProxyEnvironment(e: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of [['HTTPS_PROXY', env(e, 'HTTPS_PROXY', 'https_proxy')], ['HTTP_PROXY', env(e, 'HTTP_PROXY', 'http_proxy')]]) {
    if (value) parseProxy(value, name);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** NO_PROXY: `*`, hosts and domains (`example.com` also matches its subdomains, `.example.com` only them), IPs, CIDRs, each with an optional `:port`. */
export function bypassed(host: string, port: string, noProxy: string): boolean {
  for (let entry of noProxy.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (isIP(host) && inCidr(host, entry)) return true;
      continue;
    }
    let entryPort = '';
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m && isIP(entry) !== 6) [, entry, entryPort] = m;
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (isIP(entry)) {
      if (entry === host) return true;
      continue;
    }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.') ? host.endsWith(entry) : host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipBytes(ip);
  const b = ipBytes(base);
  if (!a || !b || a.length !== b.length || !Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if ((a[i >> 3] & mask) !== (b[i >> 3] & mask)) return false;
  }
  return true;
}

function ipBytes(ip: string): number[] | undefined {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  if (isIP(ip) !== 6) return undefined;
  const [head, tail = ''] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const creds = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

/** An https agent whose connections are CONNECT tunnels through `proxy`. */
class TunnelAgent extends https.Agent {
  constructor(private readonly proxy: URL, options: https.AgentOptions) {
    super(options);
  }

  override createConnection(options: http.RequestOptions, done?: (err: Error | null, stream: Duplex) => void): undefined {
    const target = `${options.host}:${options.port ?? 443}`;
    const fail = (err: Error): void => done?.(err, undefined as unknown as Duplex);
    const req = http.request({
      host: this.proxy.hostname,
      port: this.proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyAuthorization(this.proxy) },
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(new Error(`proxy ${this.proxy.host} answered ${res.statusCode} to CONNECT ${target}`));
        return;
      }
      const secure = tls.connect({ ...(options as tls.ConnectionOptions), socket, servername: isIP(options.host ?? '') ? undefined : (options.host ?? undefined) });
      done?.(null, secure);
    });
    req.once('error', (err) => fail(new Error(`proxy ${this.proxy.host}: ${err.message}`)));
    req.end();
    return undefined;
  }
}

const tunnels = new Map<string, https.Agent>();
const forwarders = new Map<string, http.Agent>();

/** How to send a request for `url` through `proxy`: the agent, and for http the request's target. */
export function viaProxy(url: URL, proxy: URL, tlsVerify: boolean): { agent: http.Agent; request: { host: string; port: string; path: string }; headers: Record<string, string> } | { agent: http.Agent } {
  if (url.protocol === 'https:') {
    const key = `${proxy.href}|${tlsVerify}`;
    let agent = tunnels.get(key);
    if (!agent) tunnels.set(key, (agent = new TunnelAgent(proxy, { keepAlive: true, maxSockets: 16, rejectUnauthorized: tlsVerify, ...(tlsVerify ? trustOptions() : {}) })));
    return { agent };
  }
  let agent = forwarders.get(proxy.href);
  if (!agent) forwarders.set(proxy.href, (agent = new http.Agent({ keepAlive: true, maxSockets: 16 })));
  return { agent, request: { host: proxy.hostname, port: proxy.port || '80', path: url.href }, headers: { host: url.host, ...proxyAuthorization(proxy) } };
}
