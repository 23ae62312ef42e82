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
  const env = new Map<string, string>();
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

export function setEnv(config: ContainerConfig, key: string, value: string): void {
  const env = (config.Env ?? []).filter((e) => e !== key && !e.startsWith(`${key}=`));
  env.push(`${key}=${value}`);
  config.Env = env;
}

/** Variables for expanding an instruction: ENV wins over ARG (Docker's rule). */
export function expansionLookup(state: StageState): (name: string) => string | undefined {
  const env = envMap(state.config);
  return (name) => env.get(name) ?? state.args.get(name);
}

export function shellOf(config: ContainerConfig): string[] {
  return config.Shell && config.Shell.length > 0 ? config.Shell : DEFAULT_SHELL;
}
