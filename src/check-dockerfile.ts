// checkDockerfile: parse, type and run the build checks on a Dockerfile without building
// (BuildKit's lint: every stage), with what the planner refuses (stage references, a bad FROM
// --platform, limits). The context's .dockerignore and the base images a local store already has
// (their Env, Shell) feed the checks; nothing is pulled and no store is made. `nbuild check` and
// `build --call check` render the result.
import { access, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { BuildContext } from './context/context.js';
import { DockerfileError, NbuildError } from './errors.js';
import { DockerfileParseError, lint, lintViolation, parseDockerfile, type CheckOptions } from './frontend/dockerfile/index.js';
import type { Dockerfile, Warning } from './frontend/dockerfile/types.js';
import { checkStatically } from './planner/static-check.js';
import { Store } from './store/store.js';
import { localImageConfigs } from './build.js';

export interface CheckDockerfileOptions {
  storeRoot: string;
  /** The Dockerfile's path; also its name in findings. */
  dockerfile: string;
  /** The Dockerfile's text, when not read from `dockerfile` (stdin). */
  dockerfileText?: string;
  /** The build context, for its .dockerignore (default: the Dockerfile's folder, or "." for a text). */
  contextDir?: string;
  buildArgs?: ReadonlyMap<string, string>;
}

export interface CheckFinding {
  severity: 'error' | 'warning';
  /** BuildKit's check name (warnings). */
  rule?: string;
  file: string;
  line: number;
  message: string;
  description?: string;
  url?: string;
}

export interface CheckDockerfileResult {
  /** The warnings, then the error that stopped the check, if one did. */
  findings: CheckFinding[];
  /** The error's lines of the Dockerfile (a code frame), to show under it. */
  frame?: string;
  /** True when a finding is an error (the CLI exits 1). */
  failed: boolean;
}

/** A Dockerfile that cannot be read is an NbuildError (DOCKERFILE_NOT_FOUND); its errors are findings. */
export async function checkDockerfile(options: CheckDockerfileOptions): Promise<CheckDockerfileResult> {
  const { dockerfile: file, dockerfileText } = options;
  const contextDir = options.contextDir ?? (dockerfileText !== undefined ? '.' : path.dirname(file));
  const buildArgs = options.buildArgs ?? new Map<string, string>();
  const text = dockerfileText ?? (await readDockerfile(file));
  const findings: CheckFinding[] = [];
  let frame: string | undefined;
  try {
    const df = parseDockerfile(text, file);
    const checks = await checkOptions(df, contextDir, dockerfileText !== undefined ? undefined : path.resolve(file), buildArgs, options.storeRoot);
    const warnings = lint(df, df.ast, checks);
    findings.push(...warnings.map(warningFinding));
    const violation = lintViolation(df, df.ast, warnings, checks);
    if (violation) throw violation;
    checkStatically(df, buildArgs);
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    if (e instanceof DockerfileParseError) findings.push(...e.warnings.map(warningFinding));
    findings.push({ severity: 'error', file: e.location.file, line: e.location.line, message: e.detail });
    frame = e.frame;
  }
  return { findings, ...(frame !== undefined ? { frame } : {}), failed: findings.some((f) => f.severity === 'error') };
}

async function readDockerfile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new NbuildError('DOCKERFILE_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}

const warningFinding = (w: Warning): CheckFinding => ({ severity: 'warning', rule: w.rule, file: w.file, line: w.line, message: w.message, description: w.description, ...(w.url ? { url: w.url } : {}) });

/** The context's .dockerignore, and the base images of an existing local store (nothing is pulled). */
async function checkOptions(df: Dockerfile, contextDir: string, dockerfilePath: string | undefined, buildArgs: ReadonlyMap<string, string>, storeRoot: string): Promise<CheckOptions> {
  const context = await BuildContext.open(contextDir, dockerfilePath).catch(() => undefined);
  const hasStore = await access(path.join(storeRoot, 'blobs')).then(() => true, () => false);
  const image = hasStore ? await localImageConfigs(await Store.open(storeRoot), df, buildArgs) : undefined;
  return { buildArgs, ignore: context?.ignore, image };
}
