// nbuild's own lines on stdout and stderr, written with write(2) on the JS thread rather than
// through process.stdout and process.stderr: the first use of either stream loads node:stream
// (and node:net or node:tty for a pipe or a terminal), ~5-7 ms of a no-op build or of `nbuild
// version` (docs/decisions.md, "Start-up: a no-op build loads neither node:crypto nor
// node:stream"). Node writes both streams synchronously on Linux for files, pipes and terminals,
// so lines written here and through the streams (yargs, Node's own warnings) keep their order.
// A write that fails (EAGAIN: a non-blocking descriptor inherited from the caller; EPIPE; …)
// hands what is left of it, and every later write, to the stream, which then waits for room or
// reports the error as it always did.
import { fstatSync, writeSync } from 'node:fs';

/** Where text goes: what the progress reporters and the commands write to. */
export interface TextSink {
  write(text: string): boolean;
}

class DescriptorSink implements TextSink {
  private stream: NodeJS.WritableStream | undefined;

  constructor(private readonly fd: number, private readonly streamOf: () => NodeJS.WritableStream) {}

  write(text: string): boolean {
    if (this.stream) return this.stream.write(text);
    const bytes = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done);
      return true;
    } catch {
      this.stream = this.streamOf();
      return this.stream.write(bytes.subarray(done));
    }
  }
}

/** Text written to `fd`, or to the stream streamOf() gives once a write to `fd` has failed. */
export function descriptorSink(fd: number, streamOf: () => NodeJS.WritableStream): TextSink {
  return new DescriptorSink(fd, streamOf);
}

export const stdout: TextSink = descriptorSink(1, () => process.stdout);
export const stderr: TextSink = descriptorSink(2, () => process.stderr);

/** Whether stderr is a terminal; a file or a pipe is told by fstat, without making the stream. */
export function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}
