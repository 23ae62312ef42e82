// `RUN --mount=type=ssh`: the step gets a socket of its own, owned and moded as the mount asks,
// and each connection to it is relayed to the SSH agent given with --ssh. Only that socket enters
// the sandbox (never the agent's folder, never the agent socket itself), and only for the RUN
// that mounts it; the relay stops when the step ends.
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SshAgentForward {
  /** The relay's socket (host path), to bind at the mount's target. */
  socket: string;
  close(): Promise<void>;
}

/** sun_path holds 108 bytes with the NUL. */
const MAX_SOCKET_PATH = 107;

/**
 * Listens on a new socket `name` in `dir` (or in a fresh folder under the temp folder when that
 * path is too long for a socket), chowned uid:gid with `mode`, relaying to the agent at `agent`.
 */
export async function forwardSshAgent(agent: string, dir: string, name: string, owner: { uid: number; gid: number; mode: number }): Promise<SshAgentForward> {
  let socket = path.join(dir, name);
  let madeDir: string | undefined;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    madeDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nbuild-ssh-'));
    socket = path.join(madeDir, name);
  }
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(agent);
    open.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  server.unref(); // a relay never keeps nbuild alive
  try {
    await fs.chown(socket, owner.uid, owner.gid);
    await fs.chmod(socket, owner.mode);
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    socket,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(socket, { force: true });
      if (madeDir) await fs.rm(madeDir, { recursive: true, force: true });
    },
  };
}
