// `nbuild build --load`: hand a `docker save` archive to the local docker daemon, else to podman.
// Podman cannot run here: nbuild runs inside its own user namespace, where podman takes itself for
// root and refuses (/run/libpod). So the archive is handed back to the launcher (bin/nbuild's
// nbuild-sandbox, outside the namespace as the user), which runs `podman load -i FILE` after this
// process exits and removes FILE (native/sandbox/handback.h).
import { spawn } from 'node:child_process';
import { execFileText } from '../exec-file.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launcherChannel } from './launcher-channel.js';
import { NbuildError } from '../errors.js';


export interface Loader {
  name: string;
  load(file: string): Promise<void>;
  /** The launcher loads (and then removes) the file after nbuild exits: it must be left in place. */
  handsBack?: boolean;
}

/** docker, when its daemon answers; else podman through the launcher, when it is installed. */
export async function loaderCommand(): Promise<Loader> {
  const tried: string[] = [];
  try {
    await execFileText('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 });
    return { name: 'docker', load: (file) => loadWith('docker', file) };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    tried.push(e.code === 'ENOENT' ? 'docker: not installed' : `docker: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
  const fd = launcherChannel();
  if (!onPath('podman')) tried.push('podman: not installed');
  else if (fd === undefined) tried.push('podman: only through bin/nbuild, which runs it outside the user namespace');
  else return { name: 'podman', handsBack: true, load: async (file) => handBack(fd, file) };
  throw new NbuildError('LOAD_UNAVAILABLE', `--load: no docker daemon reachable (${tried.join('; ')}); use -o type=docker,dest=FILE, then docker load -i FILE or podman load -i FILE`);
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One line to the launcher: it runs `podman load -i file` once nbuild has exited with 0. */
function handBack(fd: number, file: string): void {
  if (file.includes('\n') || !path.isAbsolute(file)) throw new NbuildError('LOAD_FAILED', `--load: cannot hand ${JSON.stringify(file)} to podman`);
  try {
    fs.writeSync(fd, `podman-load ${file}\n`);
  } catch (e) {
    throw new NbuildError('LOAD_FAILED', `--load: cannot hand the archive to the launcher for podman: ${(e as Error).message}`);
  }
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
