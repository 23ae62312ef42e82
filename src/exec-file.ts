// Runs a program and gives its output as text (child_process.execFile, promisified). Promisified
// at the call: reading execFile when a module loads would load node:child_process (and node:net)
// into every build (the bundle requires built-ins on first use: scripts/bundle.mjs).
import { execFile, type ExecFileOptions } from 'node:child_process';
import { promisify } from 'node:util';

export function execFileText(file: string, args: readonly string[], options: ExecFileOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(file, args, { ...options, encoding: 'utf8' as const });
}
