// Runs the nbuild CLI as a child process, the way a user does. The test suite
// itself runs as an unprivileged user (scripts/run-tests.sh), so this does too.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(projectRoot, 'bin', 'nbuild');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function nbuild(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; signalAfterMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: options.cwd ?? projectRoot,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A command that ends without reading its stdin (a refusal by the launcher) closes the pipe: not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nbuild-${prefix}-`));
}

let busyboxArchive: string | undefined;

/** A busybox base image (OCI archive) made by scripts/make-busybox-image.sh, once per process. */
export function busyboxImage(): string {
  if (!busyboxArchive) {
    const dir = tempDir('busybox');
    busyboxArchive = path.join(dir, 'busybox.oci.tar');
    execFileSync('bash', [path.join(projectRoot, 'scripts', 'make-busybox-image.sh'), busyboxArchive, 'latest'], { stdio: 'pipe' });
  }
  return busyboxArchive;
}

/** A fresh store with busybox:latest loaded. */
export async function storeWithBusybox(): Promise<string> {
  const root = tempDir('store');
  const r = await nbuild(['--root', root, 'load', '-i', busyboxImage(), '-t', 'busybox:latest']);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
  return root;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
}

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
