// Where the store is when no folder is named: SPEC §Command line (--root, NBUILD_ROOT, XDG).
import * as os from 'node:os';
import * as path from 'node:path';

/** `given` (--root), else NBUILD_ROOT, else $XDG_DATA_HOME/nbuild, else ~/.local/share/nbuild. */
export function resolveStoreRoot(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (given) return path.resolve(given);
  if (env.NBUILD_ROOT) return path.resolve(env.NBUILD_ROOT);
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'nbuild');
  return path.join(env.HOME || os.homedir(), '.local', 'share', 'nbuild');
}
