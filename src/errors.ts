// Typed errors. Every user-facing error has a stable `code`; the CLI prints
// `message` (never a stack trace unless --log-level debug) and exits with `exitCode`.

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  column?: number; // 1-based
  endLine?: number;
}

export class NbuildError extends Error {
  readonly code: string;
  /** 1 = the command failed; 2 = bad usage. */
  readonly exitCode: number;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad command-line usage: exit status 2. */
export class UsageError extends NbuildError {
  constructor(message: string) {
    super('USAGE', message, { exitCode: 2 });
  }
}

/** An error in a Dockerfile: renders as `FILE:LINE: message`. */
export class DockerfileError extends NbuildError {
  readonly location: SourceLocation;
  readonly detail: string;
  /** A short code frame (the offending lines), optional; the CLI prints it under the message. */
  frame?: string;

  constructor(location: SourceLocation, detail: string, options: { code?: string; frame?: string; cause?: unknown } = {}) {
    const col = location.column !== undefined ? `:${location.column}` : '';
    super(options.code ?? 'DOCKERFILE', `${location.file}:${location.line}${col}: ${detail}`, { cause: options.cause });
    this.location = location;
    this.detail = detail;
    this.frame = options.frame;
  }
}

/** A RUN step whose command exited non-zero: `FILE:LINE: RUN …: process "ARGV" did not complete successfully: exit code: N` (BuildKit's words). */
export class RunStepError extends NbuildError {
  readonly location: SourceLocation;
  readonly exitStatus: number;
  /** The RUN's lines, marked (see DockerfileError.frame). */
  frame?: string;

  constructor(location: SourceLocation, command: string, exitStatus: number, signal?: string, argv?: readonly string[]) {
    const how = signal ? `was killed by ${signal}` : `did not complete successfully: exit code: ${exitStatus}`;
    const what = argv ? `process ${JSON.stringify(argv.join(' '))}` : 'the command';
    super('RUN_FAILED', `${location.file}:${location.line}: RUN ${command}: ${what} ${how}`);
    this.location = location;
    this.exitStatus = exitStatus;
  }
}

/** A registry answered with an error or could not be reached. */
export class RegistryError extends NbuildError {
  readonly status?: number;
  readonly codes: string[];
  readonly temporary: boolean;

  constructor(message: string, options: { status?: number; codes?: string[]; temporary?: boolean; cause?: unknown } = {}) {
    super('REGISTRY', message, { cause: options.cause });
    this.status = options.status;
    this.codes = options.codes ?? [];
    this.temporary = options.temporary ?? false;
  }
}

/** The local store is missing something or holds something broken. */
export class StoreError extends NbuildError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

export function isNbuildError(e: unknown): e is NbuildError {
  return e instanceof NbuildError;
}
