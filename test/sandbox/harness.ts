// Test plumbing: ava workers cannot re-exec themselves, so each sandbox run happens in a small
// node script started under `nbuild-sandbox userns` through spawnInUserNamespace.
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnInUserNamespace, type SandboxSpec, type SubIdFiles } from '../../src/sandbox/index.js';
import { makeBusyboxRootfs } from '../helpers/busybox-rootfs.js';
import type { FixtureRequest, FixtureResponse } from './fixtures/sandbox-run.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/sandbox-run.js', import.meta.url));

export async function inNamespace(
  command: string,
  args: string[],
  subIdFiles?: SubIdFiles,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = await spawnInUserNamespace(command, args, { stdio: ['ignore', 'pipe', 'pipe'], subIdFiles });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

export interface Workspace {
  dir: string;
  lower: string;
  upper: string;
  work: string;
  /** Removes everything, from inside the namespace (files belong to subordinate ids). */
  cleanup(): Promise<void>;
}

let counter = 0;

export async function workspace(options: { mountPoints?: boolean } = {}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'nbuild-sandbox-test-'));
  const lower = await makeBusyboxRootfs(join(dir, 'lower'), options);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  await mkdir(upper);
  await mkdir(work);
  return {
    dir,
    lower,
    upper,
    work,
    cleanup: async () => {
      await inNamespace('rm', ['-rf', dir]);
    },
  };
}

export function baseSpec(ws: Workspace, args: string[], extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    rootfs: { kind: 'overlay', lowerDirs: [ws.lower], upperDir: ws.upper, workDir: ws.work },
    args,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
    cwd: '/',
    uid: 0,
    gid: 0,
    additionalGids: [],
    hostname: 'nbuild-test',
    network: 'host',
    hosts: '127.0.0.1\tlocalhost\n',
    resolvConf: 'nameserver 127.0.0.53\n',
    mounts: [],
    ...extra,
  };
}

export function sh(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

export async function runFixture(ws: Workspace, req: FixtureRequest, subIdFiles?: SubIdFiles): Promise<FixtureResponse> {
  const file = join(ws.dir, `request-${counter++}.json`);
  await writeFile(file, JSON.stringify(req));
  const { code, stdout, stderr } = await inNamespace(process.execPath, [FIXTURE, file], subIdFiles);
  if (code !== 0) throw new Error(`fixture exited with ${code}: ${stderr}`);
  try {
    return JSON.parse(stdout) as FixtureResponse;
  } catch {
    throw new Error(`fixture printed no JSON: ${stdout} ${stderr}`);
  }
}
