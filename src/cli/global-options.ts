// Options every command accepts.
import type { Options } from 'yargs';

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

// The store root as SPEC §Command line defines it (also the API's default).
export { resolveStoreRoot } from '../store/root.js';
