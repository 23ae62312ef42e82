// `--ssh default|ID[=SOCKET|KEY[,KEY…]]` as buildx reads it: an agent socket (default
// $SSH_AUTH_SOCK) or private key files. Keys are loaded into an `ssh-agent` of the host's that
// nbuild starts for the build and stops after it (buildx keeps an agent in-process).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { NbuildError, UsageError } from '../errors.js';

export type SshSource = { socket: string } | { keys: string[] };

/** Reads the --ssh values: id → where its agent is. Every path must exist: a socket, or key files. */
export function parseSshSpecs(values: readonly string[], env: NodeJS.ProcessEnv = process.env): Map<string, SshSource> {
  const out = new Map<string, SshSource>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const id = eq < 0 ? v : v.slice(0, eq);
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new UsageError(`--ssh ${v}: expected default, ID, or ID=SOCKET|KEY[,KEY]`);
    if (out.has(id)) throw new UsageError(`--ssh ${v}: id ${id} is given twice`);
    let paths = eq < 0 ? [] : v.slice(eq + 1).split(',').filter(Boolean);
    if (paths.length === 0) {
      if (!env.SSH_AUTH_SOCK) throw new UsageError(`--ssh ${v}: SSH_AUTH_SOCK is not set (start an ssh-agent, or give ${id}=SOCKET)`);
      paths = [env.SSH_AUTH_SOCK];
    }
    const sockets: string[] = [];
    const keys: string[] = [];
    for (const p of paths.map((p) => path.resolve(p))) {
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch (err) {
        throw new UsageError(`--ssh ${v}: ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or socket' : (err as Error).message}`);
      }
      if (st.isSocket()) sockets.push(p);
      else if (st.isFile()) keys.push(p);
      else throw new UsageError(`--ssh ${v}: ${p} is neither an agent socket nor a key file`);
    }
    if (sockets.length > 0 && (sockets.length > 1 || keys.length > 0)) throw new UsageError(`--ssh ${v}: one agent socket, or key files, not both`);
    out.set(id, sockets.length ? { socket: sockets[0] } : { keys });
  }
  return out;
}

export interface SshAgents {
  /** id → agent socket, for the build. */
  sockets: Map<string, string>;
  /** Stops the agents nbuild started. */
  stop(): Promise<void>;
}

/** The agent socket of every id: given ones as they are; key files loaded into a fresh ssh-agent. */
export async function startSshAgents(sources: ReadonlyMap<string, SshSource>): Promise<SshAgents> {
  const sockets = new Map<string, string>();
  const started: { agent: ChildProcess; dir: string }[] = [];
  const stop = async (): Promise<void> => {
    for (const { agent, dir } of started) {
      agent.kill();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  };
  try {
    for (const [id, source] of sources) {
      if ('socket' in source) {
        sockets.set(id, source.socket);
        continue;
      }
      const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'nbuild-agent-'));
      const socket = path.join(dir, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
      started.push({ agent, dir });
      await waitForSocket(agent, socket, id);
      await sshAdd(socket, source.keys, id);
      sockets.set(id, socket);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { sockets, stop };
}

async function waitForSocket(agent: ChildProcess, socket: string, id: string): Promise<void> {
  let failure: Error | undefined;
  agent.once('error', (err) => (failure = err));
  for (let i = 0; i < 100; i++) {
    if (failure) {
      const missing = (failure as NodeJS.ErrnoException).code === 'ENOENT';
      throw new NbuildError('SSH_AGENT', `--ssh ${id}: ${missing ? 'key files need the host\'s ssh-agent (openssh-client), which is not installed' : `cannot start ssh-agent: ${failure.message}`}`);
    }
    if (agent.exitCode !== null) throw new NbuildError('SSH_AGENT', `--ssh ${id}: ssh-agent exited (${agent.exitCode})`);
    if (fs.existsSync(socket)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new NbuildError('SSH_AGENT', `--ssh ${id}: ssh-agent did not open its socket`);
}

/** Loads the keys; a key that asks for a passphrase fails (there is no terminal to ask on). */
function sshAdd(socket: string, keys: string[], id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: '', SSH_ASKPASS_REQUIRE: 'never', DISPLAY: '' };
    const child = spawn('ssh-add', ['-q', ...keys], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => reject(new NbuildError('SSH_AGENT', `--ssh ${id}: cannot run ssh-add: ${err.message}`)));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new NbuildError('SSH_AGENT', `--ssh ${id}: ssh-add could not load ${keys.join(', ')}: ${stderr.trim().split('\n').pop() || `exit ${code}`}`));
    });
  });
}
