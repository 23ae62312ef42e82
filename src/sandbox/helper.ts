// The one client of the native helper `nbuild-sandbox`: where it lives ($NBUILD_SANDBOX_HELPER,
// else next to the addon: src/native/location.ts: build/Release, the platform package, or the
// single executable's), how it is started (`nbuild-sandbox COMMAND ARGS…`, a JSON request on
// its stdin) and how its JSON answers are read. Its commands: run (sandbox/run.ts: output
// streamed, events on fd 3), materialize/diff/fuse-upper (snapshot/copy.ts), probe
// (snapshot/probe.ts), launch (sandbox/userns.ts).
import { accessSync, constants } from 'node:fs';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { NbuildError } from '../errors.js';
import { nativeFiles } from '../native/location.js';

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

/** Starts `nbuild-sandbox command args…`. */
export function spawnHelper(command: string, args: readonly string[] = [], options: HelperSpawnOptions = {}): ChildProcess {
  const child = spawn(helperPath(), [command, ...args], {
    stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  if (options.request !== undefined) {
    child.stdin?.on('error', () => {}); // a helper that died early reports through its answer or status
    child.stdin?.end(JSON.stringify(options.request));
  }
  return child;
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
export function collectHelper(child: ChildProcess): Promise<HelperOutput> {
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
  return collectHelper(spawnHelper(command, args, { request, stdio: [request === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] }));
}

/** The helper's JSON answer (one document), or undefined when it printed something else. */
export function helperAnswer<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
