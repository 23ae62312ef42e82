// Git servers for tests, offline, in the test's own process (they stop when the test process
// does, or on close()): `git http-backend` (smart HTTP) behind a Node http server, and
// `git daemon --inetd` (git://) behind a Node TCP server, both on 127.0.0.1.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface GitServer {
  /** http://127.0.0.1:PORT (a repository FOLDER under the root is URL/FOLDER). */
  url: string;
  close(): Promise<void>;
}

const BACKEND = '/usr/lib/git-core/git-http-backend';

/** Serves every repository under `projectRoot` (GIT_HTTP_EXPORT_ALL). */
export async function gitHttpServer(projectRoot: string): Promise<GitServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method,
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      GIT_PROTOCOL: (req.headers['git-protocol'] as string | undefined) ?? '',
      HTTP_CONTENT_ENCODING: (req.headers['content-encoding'] as string | undefined) ?? '',
    };
    const cgi = spawn(BACKEND, [], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => {
      if (!headersDone) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref(); // never keeps the test process alive
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves every repository under `projectRoot` over git:// (one `git daemon --inetd` per connection). */
export async function gitDaemonServer(projectRoot: string): Promise<GitServer> {
  const server = net.createServer((socket) => {
    const daemon = spawn('git', ['daemon', '--inetd', '--export-all', `--base-path=${projectRoot}`, projectRoot], { stdio: ['pipe', 'pipe', 'ignore'] });
    socket.pipe(daemon.stdin);
    daemon.stdout.pipe(socket);
    socket.on('error', () => daemon.kill());
    daemon.on('close', () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `git://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
