// `nbuild build -` (as `docker build -`): standard input is either a tar of the context (plain,
// gzip, bzip2, xz or zstd) or a Dockerfile with an empty context. It is spooled to a temp file
// (never held in memory), then unpacked with ADD's archive rules into a temp folder.
import * as fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isTarArchive, unpackArchive } from '../executor/steps/add-sources.js';
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
    const dir = path.join(work, 'context');
    await fs.mkdir(dir);
    if (await isTarArchive(spooled)) {
      await unpackArchive(spooled, dir, work).catch((error: Error) => {
        throw new NbuildError('CONTEXT_INVALID', `the context tar on stdin cannot be unpacked: ${error.message}`, { cause: error });
      });
      await fs.rm(spooled);
      return { dir, remove };
    }
    const text = await fs.readFile(spooled, 'utf8');
    await fs.rm(spooled);
    if (text.trim() === '') throw new NbuildError('CONTEXT_INVALID', 'standard input is empty: pipe a Dockerfile or a tar of the context into `nbuild build -`');
    return { dir, dockerfileText: text, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
