// Retries with exponential backoff for temporary registry failures: connection resets,
// timeouts, 408/429/5xx. A 429's Retry-After is honoured (capped, so one bad header
// cannot stall a build for hours).
import { RegistryError } from '../errors.js';

export interface RetryPolicy {
  /** Total tries, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 };

const MAX_RETRY_AFTER_MS = 60_000;

/** A temporary error that carries the server's wish for when to try again. */
export class RetryAfterError extends RegistryError {
  readonly retryAfterMs: number;
  constructor(base: RegistryError, retryAfterMs: number) {
    super(base.message, { status: base.status, codes: base.codes, temporary: true, cause: base.cause });
    this.retryAfterMs = retryAfterMs;
  }
}

/** parseRetryAfter reads delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(at - now, 0), MAX_RETRY_AFTER_MS);
}

export function isTemporary(err: unknown): boolean {
  return err instanceof RegistryError && err.temporary;
}

/** withRetry runs `op` until it succeeds, fails permanently, or the attempts run out. `op` MUST be
 *  safe to repeat from the start (re-openable bodies, fresh temp files). With a `deadline` (epoch
 *  ms), no attempt starts after it and no wait runs past it. */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, policy: RetryPolicy, signal?: AbortSignal, deadline?: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      // Interrupted: the signal's reason (INTERRUPTED, exit 128+N), not the transport error it caused.
      signal?.throwIfAborted();
      if (!isTemporary(err) || attempt >= policy.attempts) throw err;
      const backoff = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
      // Jitter spreads out many runners that failed together.
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const wait = err instanceof RetryAfterError ? Math.max(err.retryAfterMs, jittered) : jittered;
      if (deadline !== undefined && Date.now() + wait >= deadline) throw err;
      await sleep(wait, signal);
      signal?.throwIfAborted();
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
