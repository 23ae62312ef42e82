// `nbuild build --load`: hand a `docker save` archive to the local docker daemon. Podman is not
// tried: nbuild runs inside its own user namespace, where podman takes itself for root and
// refuses (/run/libpod); the error says how to load into podman instead.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { NbuildError } from '../errors.js';

const run = promisify(execFile);

export interface Loader {
  name: string;
  load(file: string): Promise<void>;
}

/** docker, when its daemon answers. */
export async function loaderCommand(): Promise<Loader> {
  const tried: string[] = [];
  for (const name of ['docker']) {
    try {
      await run(name, ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
      return { name, load: (file) => loadWith(name, file) };
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      tried.push(e.code === 'ENOENT' ? `${name}: not installed` : `${name}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
    }
  }
  throw new NbuildError('LOAD_UNAVAILABLE', `--load: no docker daemon reachable (${tried.join('; ')}); use -o type=docker,dest=FILE, then docker load -i FILE or podman load -i FILE`);
}

function loadWith(name: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its "Loaded image" line goes to stderr: stdout carries the image id.
    const child = spawn(name, ['load', '-i', file], { stdio: ['ignore', 2, 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new NbuildError('LOAD_FAILED', `--load: ${name} load failed: ${err.trim().split('\n').pop() ?? `exit ${code}`}`))));
  });
}
