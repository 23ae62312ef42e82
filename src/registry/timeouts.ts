// How long nbuild waits for a registry. A small read (the /v2/ ping, a token, a manifest, an
// image config, a HEAD) must be complete within `requestMs`, retries included: a registry that
// drips an answer a byte at a time cannot hold a build. A blob (a layer, an upload) may take as
// long as it needs while bytes flow, but fails when none has come for `stallMs`; a stalled
// attempt is retried like a dropped connection.
import { UsageError } from '../errors.js';

export interface RegistryTimeouts {
  /** Small reads: the whole exchange, retries included. */
  requestMs: number;
  /** Any exchange: the longest time without a byte. */
  stallMs: number;
}

export const REQUEST_TIMEOUT_ENV = 'NBUILD_REGISTRY_TIMEOUT';
export const STALL_TIMEOUT_ENV = 'NBUILD_REGISTRY_STALL_TIMEOUT';
const DEFAULTS: RegistryTimeouts = { requestMs: 60_000, stallMs: 30_000 };

/** The timeouts from NBUILD_REGISTRY_TIMEOUT / NBUILD_REGISTRY_STALL_TIMEOUT (seconds), else the defaults. */
export function registryTimeouts(env: NodeJS.ProcessEnv = process.env): RegistryTimeouts {
  return {
    requestMs: seconds(env, REQUEST_TIMEOUT_ENV) ?? DEFAULTS.requestMs,
    stallMs: seconds(env, STALL_TIMEOUT_ENV) ?? DEFAULTS.stallMs,
  };
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw new UsageError(`${name}=${text}: give a number of seconds (more than 0, at most 86400)`);
  return Math.round(n * 1000);
}

/** "12 s" / "0.5 s", with the variable that sets it. */
export function describeTimeout(ms: number, kind: 'request' | 'stall'): string {
  return `${Number((ms / 1000).toFixed(3))} s (${kind === 'request' ? REQUEST_TIMEOUT_ENV : STALL_TIMEOUT_ENV})`;
}
