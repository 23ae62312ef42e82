// The one client of the native helper `nbuild-sandbox`: where it lives ($NBUILD_SANDBOX_HELPER,
// else next to the addon: src/native/location.ts: build/Release, the platform package, or the
// single executable's), how it is started (`nbuild-sandbox COMMAND ARGS…`, a JSON request on
// its stdin; startHelper through the addon's posix_spawn, spawnHelper through child_process when
// it needs another environment, folder or 'inherit') and how its JSON answers are read. Its
// commands: run (sandbox/run.ts: output streamed, events on fd 3), materialize/diff/fuse-upper
// (snapshot/copy.ts), probe (snapshot/probe.ts), launch (sandbox/userns.ts).
import { accessSync, constants } from 'node:fs';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { NbuildError } from '../errors.js';
import { nativeFiles } from '../native/location.js';
import { PipedProcess, type PipedStdio } from '../native/spawn.js';

let cached: string | undefined;

export function helperPath(): string {
  if (cached !== undefined) return cached;
  const override = process.env['NBUILD_SANDBOX_HELPER'];
  const path = override ?? nativeFiles().helper;
  try {
    accessSync(path, constants.X_OK);
  } catch (cause) {
    throw new NbuildError('SANDBOX_HELPER_MISSING', `the sandbox helper ${path} is missing or not executable; reinstall nbuild, or run \`npm run build:native\` in a source checkout`, {
      cause,
    });
  }
  cached = path;
  return path;
}

export interface HelperSpawnOptions {
  /** Sent as JSON on the helper's stdin, which is then closed (stdio[0] must be 'pipe'). */
  request?: unknown;
  /** Default: stdin, stdout and stderr piped. */
  stdio?: StdioOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What startHelper gives (the addon's PipedProcess), and what collectHelper also takes from a ChildProcess: the parts both have. */
export interface HelperProcess {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly stdio: ReadonlyArray<Readable | Writable | null | undefined>;
  kill(signal?: NodeJS.Signals | number): boolean;
  on(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/** Starts `nbuild-sandbox command args…` through child_process (any stdio, environment or folder). */
export function spawnHelper(command: string, args: readonly string[] = [], options: HelperSpawnOptions = {}): ChildProcess {
  const child = spawn(helperPath(), [command, ...args], {
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  sendRequest(child, options.request);
  return child;
}

/**
 * Starts `nbuild-sandbox command args…` in this process's environment and folder, with stdio of
 * pipes, /dev/null and fds, through the addon's posix_spawn (native/spawn.ts): no fork of the
 * Node process on the JS thread. Every RUN step and helper call starts this way.
 */
export function startHelper(command: string, args: readonly string[], options: { request?: unknown; stdio?: PipedStdio[] } = {}): HelperProcess {
  const child = startPiped(helperPath(), [command, ...args], options.stdio ?? ['pipe', 'pipe', 'pipe']);
  sendRequest(child, options.request);
  return child;
}

/** `request` as JSON on the helper's stdin, which is then closed (stdio[0] must be a pipe). */
function sendRequest(child: HelperProcess, request: unknown): void {
  if (request === undefined) return;
  child.stdin?.on('error', () => {}); // a helper that died early reports through its answer or status
  child.stdin?.end(JSON.stringify(request));
}

/** A PipedProcess; one that cannot start reports 'error' after the caller's listeners are on, as a ChildProcess does. */
function startPiped(file: string, args: string[], stdio: PipedStdio[]): HelperProcess {
  try {
    return new PipedProcess(file, args, stdio);
  } catch (error) {
    const failed = Object.assign(new EventEmitter(), { stdin: null, stdout: null, stderr: null, stdio: [], kill: () => false });
    process.nextTick(() => {
      failed.emit('error', error);
      failed.emit('close', null, null);
    });
    return failed as unknown as HelperProcess;
  }
}

export interface HelperOutput {
  /** Exit status; null when killed, or when the process could not be started. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started. */
  error?: Error;
}

/** Waits for a helper (or the launcher running one) and gives what it printed. */
export function collectHelper(child: HelperProcess): Promise<HelperOutput> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
  });
}

/** Runs `nbuild-sandbox command args…` with `request` on its stdin and gives what it printed. */
export function callHelper(command: string, args: readonly string[], request?: unknown): Promise<HelperOutput> {
  return collectHelper(startHelper(command, args, { request, stdio: [request === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] }));
}

/** The helper's JSON answer (one document), or undefined when it printed something else. */
export function helperAnswer<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
