// The mutable working state of one stage while its steps run. Images and
// layers themselves stay immutable values; this only collects what the next
// step needs (config, layer list, history, ARGs in scope).
import type { Layer } from '../image/image.js';
import type { Platform } from '../planner/args.js';
import type { ContainerConfig, History as HistoryEntry } from '../image/types.js';

export type { ContainerConfig, History as HistoryEntry } from '../image/types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface StageState {
  config: ContainerConfig;
  layers: Layer[];
  history: HistoryEntry[];
  /** ARG values in scope (not written to the image). */
  args: Map<string, string>;
  /** ARG names the stage (or the stage it is built FROM) declared, first declaration first: RUN's history lists them. */
  declared: string[];
  platform: Platform;
  author?: string;
  /** How many leading layers come from the base image (kept by --squash). */
  baseLayers: number;
  /** Identifies the layer chain + config so far, for cache keys. */
  chainKey: string;
}

export function envMap(config: ContainerConfig): Map<string, string> {
  return new Map(envIndex(config).values);
}

/**
 * What the steps of a stage look up in its ENV, kept beside the Env array it describes so that
 * an ENV or a lookup costs O(1), not O(entries): 100,000 steps must not take O(n²).
 */
interface EnvIndex {
  /** Position of each key's first entry (the one ENV replaces, as BuildKit's addEnv). */
  position: Map<string, number>;
  /** Each key's value (a later duplicate wins, as in a process environment). */
  values: Map<string, string>;
  /** Sum of the entries' lengths. */
  length: number;
}

const envIndexes = new WeakMap<string[], EnvIndex>();

function envIndex(config: ContainerConfig): EnvIndex {
  const env = config.Env ?? [];
  let index = envIndexes.get(env);
  if (!index) {
    index = { position: new Map(), values: new Map(), length: 0 };
    env.forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (!index!.position.has(key)) index!.position.set(key, i);
      index!.values.set(key, eq < 0 ? '' : entry.slice(eq + 1));
      index!.length += entry.length;
    });
    if (config.Env) envIndexes.set(config.Env, index);
  }
  return index;
}

/** Sets KEY=VALUE: in place when KEY is set (BuildKit's addEnv), else appended. */
export function setEnv(config: ContainerConfig, key: string, value: string): void {
  config.Env ??= [];
  const index = envIndex(config);
  const entry = `${key}=${value}`;
  const at = index.position.get(key);
  if (at === undefined) {
    index.position.set(key, config.Env.length);
    config.Env.push(entry);
  } else {
    index.length -= config.Env[at].length;
    config.Env[at] = entry;
  }
  index.values.set(key, value);
  index.length += entry.length;
}

/** The length of the stage's ENV, summed over its entries (bounded by MAX_ENV_LENGTH). */
export function envLength(config: ContainerConfig): number {
  return envIndex(config).length;
}

/** The stage's ENV as a lookup (O(1) per name). */
export function envLookup(config: Readonly<ContainerConfig>): (name: string) => string | undefined {
  const env = envIndex(config).values;
  return (name) => env.get(name);
}

/** Variables for expanding an instruction: ENV wins over ARG (Docker's rule). */
export function expansionLookup(state: Pick<StageState, 'config' | 'args'>): (name: string) => string | undefined {
  const env = envIndex(state.config).values;
  return (name) => env.get(name) ?? state.args.get(name);
}

export function shellOf(config: Readonly<ContainerConfig>): string[] {
  return config.Shell && config.Shell.length > 0 ? config.Shell : DEFAULT_SHELL;
}
