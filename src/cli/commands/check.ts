// `nbuild check [-f FILE] [--build-arg K=V] [--format text|json] [CONTEXT]`: parse, type and run
// the build checks on a Dockerfile without building (BuildKit's lint: every stage); print
// errors and warnings as FILE:LINE: message. CONTEXT (default: the Dockerfile's folder) gives
// the .dockerignore; base images the local store has give their Env to the checks.
import type { Argv } from 'yargs';
import { access, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DockerfileError, NbuildError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';
import type { Warning } from '../../frontend/dockerfile/types.js';
import type { NbuildCommand } from '../command.js';

interface CheckArgs {
  file?: string;
  context?: string;
  format: 'text' | 'json';
  'build-arg': string[];
  root?: string;
}

interface Finding {
  severity: 'error' | 'warning';
  rule?: string;
  file: string;
  line: number;
  message: string;
  description?: string;
  url?: string;
}

async function readDockerfile(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new NbuildError('DOCKERFILE_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function render(findings: Finding[], format: CheckArgs['format'], frame?: string): string {
  if (format === 'json') return JSON.stringify({ findings }, null, 2) + '\n';
  const lines = findings.map((f) => `${f.file}:${f.line}: ${f.severity === 'warning' ? 'warning' : 'error'}: ${f.message}${f.rule ? ` [${f.rule}]` : ''}`);
  if (frame) lines.push(frame);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

const warningFinding = (w: Warning): Finding => ({ severity: 'warning', rule: w.rule, file: w.file, line: w.line, message: w.message, description: w.description, ...(w.url ? { url: w.url } : {}) });

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
  const [{ parseDockerfile, lint, lintViolation, DockerfileParseError }, { parseBuildArgs }, { checkStatically }] = await Promise.all([
    import('../../frontend/dockerfile/index.js'), import('./build.js'), import('../../planner/static-check.js'),
  ]);
  const contextDir = req.contextDir ?? (req.file === '-' ? '.' : path.dirname(req.file));
  const buildArgs = parseBuildArgs(req.buildArgs ?? []);
  const text = await readDockerfile(req.file);
  const findings: Finding[] = [];
  let frame: string | undefined;
  try {
    const df = parseDockerfile(text, req.file);
    const options = await checkOptions(df, contextDir, req.file, buildArgs, req.root);
    const warnings = lint(df, df.ast, options);
    findings.push(...warnings.map(warningFinding));
    const violation = lintViolation(df, df.ast, warnings, options);
    if (violation) throw violation;
    // What the planner refuses (stage references, a bad FROM --platform value, limits) is the Dockerfile's error too.
    checkStatically(df, buildArgs);
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    if (e instanceof DockerfileParseError) findings.push(...e.warnings.map(warningFinding));
    findings.push({ severity: 'error', file: e.location.file, line: e.location.line, message: e.detail });
    frame = e.frame;
  }
  process.stdout.write(render(findings, req.format, frame));
  if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
}

/** The context's .dockerignore, and the base images of an existing local store (nothing is pulled). */
async function checkOptions(
  df: import('../../frontend/dockerfile/types.js').Dockerfile,
  contextDir: string,
  file: string,
  buildArgs: ReadonlyMap<string, string>,
  root: string | undefined,
): Promise<import('../../frontend/dockerfile/index.js').CheckOptions> {
  const [{ BuildContext }, { Store }, { localImageConfigs }] = await Promise.all([import('../../context/context.js'), import('../../store/store.js'), import('../../build.js')]);
  const context = await BuildContext.open(contextDir, file === '-' ? undefined : path.resolve(file)).catch(() => undefined);
  const storeRoot = resolveStoreRoot(root);
  const hasStore = await access(path.join(storeRoot, 'blobs')).then(() => true, () => false);
  const image = hasStore ? await localImageConfigs(await Store.open(storeRoot), df, buildArgs) : undefined;
  return { buildArgs, ignore: context?.ignore, image };
}
