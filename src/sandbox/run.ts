// runSandboxed: one RUN step through `nbuild-sandbox run` (helper.ts; spec as JSON on stdin, command output
// on stdout/stderr, one JSON result line on fd 3). Must be called inside the user namespace.
import type { Readable } from 'node:stream';
import { NbuildError } from '../errors.js';
import { startHelper } from './helper.js';
import type { SandboxIo, SandboxResult, SandboxSpec } from './spec.js';

type HelperEvent =
  | { type: 'exit'; exitCode: number; signal?: string }
  | { type: 'error'; errno: number; message: string }
  | { type: 'aborted' };

/** Grace period between SIGTERM (helper cleans up) and SIGKILL on abort. */
const KILL_AFTER_MS = 5000;

function abortError(signal: AbortSignal | undefined): NbuildError {
  // The caller's reason (e.g. "build interrupted by SIGINT") is the one line the user should see.
  if (signal?.reason instanceof NbuildError) return signal.reason;
  return new NbuildError('ABORTED', 'the RUN step was aborted', { cause: signal?.reason });
}

function lastEvent(text: string): HelperEvent | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return undefined;
  return JSON.parse(lines[lines.length - 1]) as HelperEvent;
}

function validate(spec: SandboxSpec): void {
  if (spec.args.length === 0) throw new NbuildError('SANDBOX_SPEC', 'RUN has no command');
  if (!spec.cwd.startsWith('/')) throw new NbuildError('SANDBOX_SPEC', `working directory ${spec.cwd} is not absolute`);
  for (const m of spec.mounts) {
    if (!m.target.startsWith('/')) throw new NbuildError('SANDBOX_SPEC', `mount target ${m.target} is not absolute`);
    if ((m.type === 'bind' || m.type === 'overlay') && !m.source?.startsWith('/'))
      throw new NbuildError('SANDBOX_SPEC', `bind mount of ${m.target} needs an absolute source`);
    if (m.type === 'overlay' && !(m.upperDir?.startsWith('/') && m.workDir?.startsWith('/')))
      throw new NbuildError('SANDBOX_SPEC', `overlay mount of ${m.target} needs absolute upper and work folders`);
    if (m.type === 'overlay' && spec.isolation === 'chroot') throw new NbuildError('SANDBOX_SPEC', 'chroot isolation cannot mount an overlay');
  }
  if (spec.network === 'slirp4netns' && !spec.slirp4netns?.startsWith('/'))
    throw new NbuildError('SANDBOX_SPEC', 'network slirp4netns needs the absolute path of slirp4netns');
}

/** Runs `spec.args` in the sandbox; resolves with its exit status, rejects on setup errors or abort. */
export async function runSandboxed(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  validate(spec);
  if (process.geteuid?.() !== 0) {
    throw new NbuildError('SANDBOX_NOT_IN_USERNS', 'RUN needs the user namespace: call enterUserNamespace() before building');
  }
  if (io.signal?.aborted) throw abortError(io.signal);
  if (spec.rootfs.kind !== 'dir' || !spec.rootfs.mount) return runHelper(spec, io);
  const { mount, ...rootfs } = spec.rootfs;
  await mount.up();
  let result: SandboxResult;
  try {
    result = await runHelper({ ...spec, rootfs }, io);
  } catch (e) {
    await mount.down().catch(() => {}); // the run's own error is the one to report
    throw e;
  }
  await mount.down();
  return result;
}

function runHelper(spec: SandboxSpec, io: SandboxIo): Promise<SandboxResult> {
  return new Promise((resolve, reject) => {
    // fd 4 of the helper becomes the command's stdin when asked (`nbuild run -i`): node's own fd 0.
    const stdio: ('pipe' | number)[] = spec.stdin === 'inherit' ? ['pipe', 'pipe', 'pipe', 'pipe', 0] : ['pipe', 'pipe', 'pipe', 'pipe'];
    const child = startHelper('run', [], { stdio, request: spec });
    let events = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (c: Buffer) => io.onStdout(c));
    child.stderr?.on('data', (c: Buffer) => io.onStderr(c));
    (child.stdio[3] as Readable).on('data', (c: Buffer) => (events += c.toString('utf8')));
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    };
    io.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new NbuildError('SANDBOX', `cannot start the sandbox helper: ${e.message}`, { cause: e })));
    child.on('close', (code, sig) => {
      io.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      let ev: HelperEvent | undefined;
      try {
        ev = lastEvent(events);
      } catch (e) {
        reject(new NbuildError('SANDBOX', `the sandbox helper sent garbage: ${events.slice(0, 200)}`, { cause: e }));
        return;
      }
      if (io.signal?.aborted || ev?.type === 'aborted') reject(abortError(io.signal));
      else if (ev?.type === 'exit') resolve(ev.signal ? { exitCode: ev.exitCode, signal: ev.signal } : { exitCode: ev.exitCode });
      else if (ev?.type === 'error') reject(new NbuildError('SANDBOX_SETUP', `RUN sandbox: ${ev.message}`));
      else reject(new NbuildError('SANDBOX', `the sandbox helper ended without a result (${sig ?? `exit ${code}`})`));
    });
  });
}
