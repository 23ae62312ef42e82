// nbuild's own registry traffic honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY (as Go's net/http: loopback
// never proxied). A tiny proxy on 127.0.0.1 counts CONNECT tunnels and forwarded requests and sends every
// name to 127.0.0.1 (so `*.nbuild.invalid` registries exist only through it); Debian's docker-registry,
// once with TLS, once plain, stands behind it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { busyboxImage, hasCommand, nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { haveDistribution, startDistribution, type Distribution } from '../registry/helpers/distribution.js';

const serial = haveDistribution && hasCommand('skopeo') && hasCommand('openssl') ? test.serial : test.serial.skip;

interface CountingProxy { url: string; connects: string[]; forwards: string[]; close(): Promise<void> }

async function startProxy(): Promise<CountingProxy> {
  const connects: string[] = [];
  const forwards: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/');
    forwards.push(`${req.method} ${url.href}`);
    const upstream = http.request({ host: '127.0.0.1', port: url.port || 80, method: req.method, path: url.pathname + url.search, headers: { ...req.headers, host: url.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, connects, forwards, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

let secure: Distribution;
let plain: Distribution;
let proxy: CountingProxy;
const portOf = (d: Distribution) => d.host.split(':')[1];
test.before(async () => {
  if (!haveDistribution || !hasCommand('openssl')) return;
  [secure, plain, proxy] = await Promise.all([startDistribution({ tls: true }), startDistribution(), startProxy()]);
  execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${busyboxImage()}`, `docker://${secure.host}/library/busybox:latest`], { stdio: 'pipe' });
  execFileSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${busyboxImage()}`, `docker://${plain.host}/library/busybox:latest`], { stdio: 'pipe' });
});
test.after.always(async () => {
  await Promise.all([secure?.stop(), plain?.stop(), proxy?.close()]);
});

const NO_PROXIES = Object.fromEntries(['http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'].flatMap((k) => [[k, ''], [k.toUpperCase(), '']]));

async function build(dockerfile: string, env: NodeJS.ProcessEnv, args: string[] = [], { verify = false } = {}): Promise<{ code: number; stderr: string }> {
  const ctx = tempDir('proxy-reg-ctx');
  writeFiles(ctx, { Dockerfile: dockerfile });
  const conf = path.join(ctx, 'registries.toml');
  fs.writeFileSync(conf, '');
  return nbuild(['--root', tempDir('proxy-reg-store'), 'build', '--progress', 'plain', ...(verify ? [] : ['--tls-verify=false']), '-o', path.join(tempDir('proxy-reg-out'), 'fs'), ...args, ctx], {
    env: { ...NO_PROXIES, NBUILD_REGISTRIES_CONFIG: conf, ...env },
  });
}

serial('HTTPS_PROXY: a pull and a push go through CONNECT tunnels of the proxy', async (t) => {
  const name = `tls-registry.nbuild.invalid:${portOf(secure)}`;
  const before = proxy.connects.length;
  const r = await build(`FROM ${name}/library/busybox:latest\nRUN echo through > /t\n`, { HTTPS_PROXY: proxy.url }, ['--push', '-t', `${name}/pushed:1`]);
  t.is(r.code, 0, r.stderr);
  const tunnels = proxy.connects.slice(before);
  t.true(tunnels.length >= 1, 'no CONNECT');
  t.true(tunnels.every((c) => c === name), tunnels.join(', '));
  // The push arrived (read back directly).
  const pushed = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${secure.host}/pushed:1`]).toString()) as { Layers: string[] };
  t.true(pushed.Layers.length >= 2);
});

// bin/nbuild defers NODE_EXTRA_CA_CERTS from Node's start-up to the first TLS connection
// (src/registry/trust.ts): the certificates must still be trusted there, through a tunnel too.
serial('NODE_EXTRA_CA_CERTS: a registry only that file trusts is pulled from with verification on', async (t) => {
  const from = `FROM tls-registry.nbuild.invalid:${portOf(secure)}/library/busybox:latest\n`;
  const trusted = await build(from, { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: secure.cert }, [], { verify: true });
  t.is(trusted.code, 0, trusted.stderr);
  t.notRegex(trusted.stderr, /extra certs/);
  const missing = path.join(tempDir('extra-ca'), 'missing.pem');
  const untrusted = await build(from, { HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: missing }, [], { verify: true });
  t.is(untrusted.code, 1);
  t.regex(untrusted.stderr, /self-signed certificate/);
  // Node's own warning for a file it cannot read, given once, when the file is first needed.
  t.is(untrusted.stderr.split(`Ignoring extra certs from \`${missing}\``).length, 2, untrusted.stderr);
});

serial('HTTP_PROXY: plain http is sent to the proxy with the absolute URL', async (t) => {
  const name = `plain-registry.nbuild.invalid:${portOf(plain)}`;
  const before = proxy.forwards.length;
  const r = await build(`FROM ${name}/library/busybox:latest\n`, { http_proxy: proxy.url });
  t.is(r.code, 0, r.stderr);
  const sent = proxy.forwards.slice(before);
  t.true(sent.some((f) => f === `GET http://${name}/v2/`), sent.join('\n'));
  t.true(sent.some((f) => f.startsWith(`GET http://${name}/v2/library/busybox/blobs/sha256:`)), sent.join('\n'));
});

serial('NO_PROXY and loopback registries go direct', async (t) => {
  const before = proxy.connects.length + proxy.forwards.length;
  // 127.0.0.1 is never proxied (as Go's net/http), whatever NO_PROXY says.
  const loop = await build(`FROM ${secure.host}/library/busybox:latest\n`, { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
  t.is(loop.code, 0, loop.stderr);
  // A name in NO_PROXY (a domain matches its subdomains) is looked up directly: .invalid does not resolve.
  const direct = await build(`FROM tls-registry.nbuild.invalid:${portOf(secure)}/library/busybox:latest\n`, { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,nbuild.invalid' });
  t.is(direct.code, 1);
  t.regex(direct.stderr, /cannot reach registry tls-registry\.nbuild\.invalid/);
  t.is(proxy.connects.length + proxy.forwards.length, before);
});

serial('a proxy that is not http:// is one error', async (t) => {
  const r = await build(`FROM tls-registry.nbuild.invalid:${portOf(secure)}/library/busybox:latest\n`, { HTTPS_PROXY: 'socks5://127.0.0.1:1' });
  t.is(r.code, 1);
  t.regex(r.stderr, /^nbuild: HTTPS_PROXY: proxy socks5:\/\/127\.0\.0\.1:1: only http:\/\/ proxies are supported\n$/);
});
