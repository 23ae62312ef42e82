// `nbuild check [-f FILE] [--format text|json]`: parse and type a Dockerfile
// without building; print errors and warnings as FILE:LINE: message.
import type { Argv, CommandModule } from 'yargs';
import { readFile } from 'node:fs/promises';
import { DockerfileError, NbuildError } from '../../errors.js';

interface CheckArgs {
  file: string;
  format: 'text' | 'json';
}

interface Finding {
  severity: 'error' | 'warning';
  rule?: string;
  file: string;
  line: number;
  message: string;
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

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'parse and type a Dockerfile without building; print errors and warnings',
  builder: (y: Argv) =>
    y
      .option('file', { alias: 'f', type: 'string', default: 'Dockerfile', describe: 'the Dockerfile (- for stdin)' })
      .option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' }) as unknown as Argv<CheckArgs>,
  handler: (args) => checkDockerfile(args.file, args.format),
};

/** Prints the findings for `file` (- for stdin); exit status 1 when there is an error. Also `build --call check`. */
export async function checkDockerfile(file: string, format: 'text' | 'json'): Promise<void> {
  const { parseDockerfile } = await import('../../frontend/dockerfile/index.js');
  const { checkStatically } = await import('../../planner/static-check.js');
  const text = await readDockerfile(file);
  const findings: Finding[] = [];
  let frame: string | undefined;
  try {
    const df = parseDockerfile(text, file);
    for (const w of df.warnings) findings.push({ severity: 'warning', rule: w.rule, file: w.file, line: w.line, message: w.message });
    checkStatically(df); // stage references and limits, as the build would meet them
  } catch (e) {
    if (!(e instanceof DockerfileError)) throw e;
    findings.push({ severity: 'error', file: e.location.file, line: e.location.line, message: e.detail });
    frame = e.frame;
  }
  process.stdout.write(render(findings, format, frame));
  if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
}
