import { NbuildError } from '../errors.js';

/** A failure inside the native layer engine, with what the C++ side knew about it. */
export class NativeError extends NbuildError {
  /** errno of the failed system call, when one failed. */
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;

  constructor(code: string, message: string, details: { errno?: number; syscall?: string; path?: string; cause?: unknown } = {}) {
    super(code, message, { cause: details.cause });
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.path = details.path;
  }
}

interface RawNativeError {
  message: string;
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
}

function isRaw(e: unknown): e is RawNativeError {
  return e instanceof Error;
}

/**
 * Native errors have no JS stack of their own: the message and fields move onto an error
 * created at the API call site (`context`), so the stack points at the caller.
 */
export function fromNative(e: unknown, context: Error): NativeError {
  if (!isRaw(e)) return new NativeError('INTERNAL', String(e));
  const err = new NativeError(typeof e.code === 'string' ? e.code : 'INTERNAL', e.message, {
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    path: typeof e.path === 'string' ? e.path : undefined,
    cause: e,
  });
  err.stack = `${err.name}: ${err.message}\n${(context.stack ?? '').split('\n').slice(1).join('\n')}`;
  return err;
}
