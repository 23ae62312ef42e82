// `nbuild build -` (as `docker build -`): standard input is either a tar of the context (plain,
// gzip, bzip2, xz or zstd) or a Dockerfile with an empty context. It is spooled to a temp file
// (never held in memory), then unpacked with ADD's archive rules into a temp folder.
// An http(s) URL context is read the same way once downloaded (src/context/remote-context.ts).
import * as fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { contextFromFile } from '../context/remote-context.js';
import { NbuildError } from '../errors.js';

export interface StdinContext {
  dir: string;
  /** The Dockerfile's text when stdin was a Dockerfile (not a tar). */
  dockerfileText?: string;
  remove(): Promise<void>;
}

export async function contextFromStdin(input: NodeJS.ReadableStream = process.stdin): Promise<StdinContext> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'nbuild-stdin-'));
  const remove = (): Promise<void> => fs.rm(work, { recursive: true, force: true });
  try {
    const spooled = path.join(work, 'stdin');
    await pipeline(input, createWriteStream(spooled, { mode: 0o600 }));
    const read = await contextFromFile(spooled, work, 'stdin');
    if (read.dockerfileText?.trim() === '') throw new NbuildError('CONTEXT_INVALID', 'standard input is empty: pipe a Dockerfile or a tar of the context into `nbuild build -`');
    return { ...read, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
