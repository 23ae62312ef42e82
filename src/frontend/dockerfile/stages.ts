// AST → Dockerfile: types every instruction (errors located at FILE:LINE with a
// code frame) and groups them into stages and global ARGs.
import type { DockerfileAst } from './ast.js';
import type { ArgInstruction, Dockerfile, Instruction, Stage } from './types.js';
import { InstructionError } from './flags.js';
import { toInstruction } from './instructions.js';
import { errorAt } from './frame.js';
import { MAX_STAGES, MAX_STEPS } from './limits.js';
import { lint, lintBeforeError } from './checks.js';
import { DockerfileError } from '../../errors.js';
import type { Warning } from './types.js';

/** A Dockerfile that does not type, with the checks that fired on the lines before the error (as BuildKit reports them). */
export class DockerfileParseError extends DockerfileError {
  constructor(
    error: DockerfileError,
    readonly warnings: Warning[],
  ) {
    super(error.location, error.detail, { code: error.code, frame: error.frame, cause: error.cause });
  }
}

/**
 * `# syntax=` names the frontend image BuildKit runs. nbuild is that frontend for Docker's own
 * (docker/dockerfile, -upstream; from any registry or mirror, any tag or digest); another one it
 * cannot run.
 */
const OWN_FRONTEND = /^(?:[^/\s]+\/)*docker\/dockerfile(?:-upstream)?(?::[\w][\w.-]*)?(?:@sha256:[0-9a-f]{64})?$/;

export function toDockerfile(ast: DockerfileAst, file: string, lines: readonly string[]): Dockerfile {
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  if (ast.nodes.length > MAX_STEPS) {
    const over = ast.nodes[MAX_STEPS].range.start.line;
    throw errorAt(file, lines, `more than ${MAX_STEPS} instructions, nbuild's limit (docs/differences.md)`, over);
  }
  for (const node of ast.nodes) {
    let instr: Instruction;
    try {
      instr = toInstruction(node, file);
    } catch (e) {
      if (!(e instanceof InstructionError)) throw e;
      const error = errorAt(file, lines, e.message, node.range.start.line, node.range.end.line);
      const before: Dockerfile = { file, escape: ast.escape, globalArgs, stages, warnings: [], ast };
      throw new DockerfileParseError(error, lintBeforeError(before, ast));
    }
    const line = node.range.start.line;
    if (instr.kind === 'from') {
      // A duplicate name is BuildKit's DuplicateStageName warning (checks.ts), not an error.
      const name = instr.stageName?.toLowerCase();
      if (stages.length === MAX_STAGES) throw errorAt(file, lines, `more than ${MAX_STAGES} build stages, nbuild's limit (docs/differences.md)`, line);
      stages.push({ index: stages.length, name, from: instr, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instr);
    } else if (instr.kind === 'arg') {
      globalArgs.push(instr);
    } else {
      throw errorAt(file, lines, `no build stage in current context: ${node.keyword.toUpperCase()} must come after FROM (only ARG may come before the first FROM)`, line, node.range.end.line);
    }
  }
  if (stages.length === 0) throw errorAt(file, lines, 'dockerfile contains no stages to build (it has no FROM)', 1);
  const directive = ast.directives.find((d) => d.name === 'syntax');
  const syntax = directive?.value;
  if (directive && !OWN_FRONTEND.test(directive.value.trim())) {
    throw errorAt(file, lines, `syntax=${directive.value}: nbuild parses Dockerfiles itself and cannot run the frontend image ${JSON.stringify(directive.value)} (docker/dockerfile[:VERSION] is accepted)`, directive.line);
  }
  const dockerfile: Dockerfile = { file, escape: ast.escape, syntax, globalArgs, stages, warnings: [], ast };
  dockerfile.warnings = lint(dockerfile, ast);
  return dockerfile;
}
