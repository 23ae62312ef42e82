// `nbuild check [-f FILE] [--build-arg K=V] [--format text|json] [CONTEXT]`: the build checks on
// a Dockerfile without building (checkDockerfile, src/check-dockerfile.ts), printed as
// FILE:LINE: message or JSON; exit status 1 when there is an error. Also `build --call check`.
import type { Argv } from 'yargs';
import * as path from 'node:path';
import { NbuildError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';
import type { CheckDockerfileResult } from '../../check-dockerfile.js';
import type { NbuildCommand } from '../command.js';

interface CheckArgs {
  file?: string;
  context?: string;
  format: 'text' | 'json';
  'build-arg': string[];
  root?: string;
}

export const checkCommand: NbuildCommand<CheckArgs> = {
  userns: false,
  command: 'check [context]',
  describe: 'parse a Dockerfile and run the build checks on every stage, without building; print errors and warnings',
  builder: (y: Argv) =>
    y
      .positional('context', { type: 'string', describe: "the build context, for its .dockerignore (default: the Dockerfile's folder)" })
      .option('file', { alias: 'f', type: 'string', describe: 'the Dockerfile (- for stdin; default CONTEXT/Dockerfile)' })
      .option('build-arg', { type: 'string', nargs: 1, default: [], coerce: (v: string | string[]) => (Array.isArray(v) ? v : [v]), describe: 'K=V as for build (BUILDKIT_DOCKERFILE_CHECK=… replaces the # check= directive)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' }) as unknown as Argv<CheckArgs>,
  handler: (args) => {
    const file = args.file ?? path.join(args.context ?? '.', 'Dockerfile');
    return checkDockerfile({ file, contextDir: args.context, format: args.format, buildArgs: args['build-arg'], root: args.root });
  },
};

export interface CheckRequest {
  /** The Dockerfile, - for stdin. */
  file: string;
  /** The build context (default: the Dockerfile's folder). */
  contextDir?: string;
  format: 'text' | 'json';
  /** `--build-arg` values, K=V or K. */
  buildArgs?: string[];
  root?: string;
}

/** Prints the findings for a Dockerfile; exit status 1 when there is an error. Also `build --call check`. */
export async function checkDockerfile(req: CheckRequest): Promise<void> {
  const [{ checkDockerfile: check }, { parseBuildArgs }] = await Promise.all([import('../../check-dockerfile.js'), import('./build.js')]);
  const result = await check({
    storeRoot: resolveStoreRoot(req.root),
    dockerfile: req.file,
    ...(req.file === '-' ? { dockerfileText: await readStdin() } : {}),
    ...(req.contextDir !== undefined ? { contextDir: req.contextDir } : {}),
    buildArgs: parseBuildArgs(req.buildArgs ?? []),
  });
  process.stdout.write(render(result, req.format));
  if (result.failed) process.exitCode = 1;
}

async function readStdin(): Promise<string> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    throw new NbuildError('DOCKERFILE_NOT_FOUND', `cannot read -: ${(e as Error).message}`, { cause: e });
  }
}

function render({ findings, frame }: CheckDockerfileResult, format: CheckArgs['format']): string {
  if (format === 'json') return JSON.stringify({ findings }, null, 2) + '\n';
  const lines = findings.map((f) => `${f.file}:${f.line}: ${f.severity === 'warning' ? 'warning' : 'error'}: ${f.message}${f.rule ? ` [${f.rule}]` : ''}`);
  if (frame) lines.push(frame);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}
