// A real ssh-agent of the host (openssh-client) on a socket in a temp folder, holding one fresh key.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './nbuild-cli.js';

export interface TestAgent {
  dir: string;
  socket: string;
  /** The private key file (unencrypted), and the comment the agent lists it with. */
  key: string;
  comment: string;
  /** The public key line (`ssh-ed25519 AAAA… comment`). */
  publicKey: string;
  stop(): void;
}

export async function startTestAgent(): Promise<TestAgent> {
  const dir = tempDir('agent');
  const socket = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
  if (!fs.existsSync(socket)) throw new Error('ssh-agent did not start');
  const comment = `nbuild-test-${Math.random().toString(36).slice(2, 10)}`;
  const key = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', key]);
  execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'pipe' });
  return { dir, socket, key, comment, publicKey: fs.readFileSync(`${key}.pub`, 'utf8').trim(), stop: () => agent.kill() };
}
