// Options every command accepts.
import type { Options } from 'yargs';
import * as os from 'node:os';
import * as path from 'node:path';

export const globalOptions = {
  root: {
    type: 'string',
    describe: 'the store folder (env NBUILD_ROOT; default $XDG_DATA_HOME/nbuild or ~/.local/share/nbuild)',
    global: true,
  },
  'log-level': {
    type: 'string',
    choices: ['error', 'warn', 'info', 'debug'],
    default: 'info',
    describe: 'how much to log; debug also prints stack traces',
    global: true,
  },
} satisfies Record<string, Options>;

/** The store root as SPEC §Command line defines it. */
export function resolveStoreRoot(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.NBUILD_ROOT) return path.resolve(env.NBUILD_ROOT);
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'nbuild');
  return path.join(env.HOME || os.homedir(), '.local', 'share', 'nbuild');
}
