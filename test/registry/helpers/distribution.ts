// Starts Debian's docker-registry (distribution 2.x) on 127.0.0.1:<free port> with
// filesystem storage in a temp dir, optionally behind htpasswd basic auth.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Distribution {
  host: string;
  dir: string;
  /** With `tls`: the self-signed certificate (PEM), to be trusted as its own CA. */
  cert?: string;
  stop(): Promise<void>;
}

export const haveDistribution = fs.existsSync('/usr/bin/docker-registry');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `tls`: HTTPS only, with a fresh self-signed certificate (clients need --tls-verify=false, or to
 * trust `cert`), valid for 127.0.0.1, localhost and any *.nbuild.invalid name a test proxies to it.
 */
export async function startDistribution(opts: { users?: Record<string, string>; tls?: boolean } = {}): Promise<Distribution> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-distribution-'));
  const port = await freePort();
  let tls = '';
  let certFile: string | undefined;
  if (opts.tls) {
    const [cert, key] = [path.join(dir, 'cert.pem'), path.join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=nbuild-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.nbuild.invalid', '-keyout', key, '-out', cert], { stdio: 'pipe' });
    tls = `  tls:\n    certificate: ${cert}\n    key: ${key}\n`;
    certFile = cert;
  }
  let auth = '';
  if (opts.users) {
    const file = path.join(dir, 'htpasswd');
    const lines = Object.entries(opts.users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim());
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    auth = `auth:\n  htpasswd:\n    realm: nbuild-test\n    path: ${file}\n`;
  }
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${tls}${auth}`);
  const child: ChildProcess = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    const ok = opts.tls
      ? await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      })
      : await fetch(`http://${host}/v2/`).then((r) => r.status === 200 || r.status === 401, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    dir,
    cert: certFile,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
