// A program started by the addon with posix_spawn (native/addon/spawn.cc), with the parts of a
// ChildProcess that the sandbox helper's clients use: the piped stdio as streams, kill(), and
// 'exit' then 'close' once it has ended and its output pipes are drained. Node's
// child_process.spawn forks the whole Node process on the JS thread first (~8–12 ms at a build's
// size); posix_spawn does not copy the page tables (docs/decisions.md, "RUN steps start the
// sandbox helper with posix_spawn").
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { binding } from './binding.js';
import { fromNative } from './errors.js';

/** A stdio slot: a pipe, /dev/null, or one of this process's fds. */
export type PipedStdio = 'pipe' | 'ignore' | number;

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class PipedProcess extends EventEmitter {
  readonly pid: number;
  /** Per slot: the parent's end of a pipe as a stream (slot 0 writable, the others readable), else null. */
  readonly stdio: (Socket | null)[];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private ended = false;

  /** Starts `file` with `args` (argv[0] is `file`) in this process's environment and folder; throws when it cannot. */
  constructor(file: string, args: readonly string[], stdio: readonly PipedStdio[]) {
    super();
    let raw;
    try {
      raw = binding().spawnPiped(file, [file, ...args], stdio.map((s) => (s === 'pipe' ? -1 : s === 'ignore' ? -2 : s)));
    } catch (e) {
      throw fromNative(e, new Error());
    }
    this.pid = raw.pid;
    this.stdio = raw.fds.map((fd, i) => (fd < 0 ? null : new Socket({ fd, readable: i !== 0, writable: i === 0 })));
    // As ChildProcess: 'close' after the exit and the end of every output pipe (not stdin).
    let open = 1;
    const closed = (): void => {
      if (--open === 0) this.emit('close', this.exitCode, this.signalCode);
    };
    this.stdio.forEach((s, i) => {
      if (!s || i === 0) return;
      open++;
      s.once('close', closed);
    });
    void raw.exited.then(({ code, signal }) => {
      this.ended = true;
      this.exitCode = code;
      this.signalCode = signal === null ? null : (signalNames.get(signal) ?? null);
      this.emit('exit', this.exitCode, this.signalCode);
      closed();
    });
  }

  get stdin(): Socket | null {
    return this.stdio[0] ?? null;
  }
  get stdout(): Socket | null {
    return this.stdio[1] ?? null;
  }
  get stderr(): Socket | null {
    return this.stdio[2] ?? null;
  }

  /** Sends a signal unless it has ended (its pid may be another process's by then). */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.ended) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
