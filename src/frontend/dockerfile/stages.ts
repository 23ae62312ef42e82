// AST → Dockerfile: types every instruction (errors located at FILE:LINE with a
// code frame) and groups them into stages and global ARGs.
import type { DockerfileAst } from './ast.js';
import type { ArgInstruction, Dockerfile, Instruction, Stage } from './types.js';
import { InstructionError } from './flags.js';
import { toInstruction } from './instructions.js';
import { errorAt } from './frame.js';
import { lint } from './checks.js';
import { MAX_STAGES, MAX_STEPS } from './limits.js';

export function toDockerfile(ast: DockerfileAst, file: string, lines: readonly string[]): Dockerfile {
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  if (ast.nodes.length > MAX_STEPS) {
    const over = ast.nodes[MAX_STEPS].range.start.line;
    throw errorAt(file, lines, `more than ${MAX_STEPS} instructions, nbuild's limit (docs/differences.md)`, over);
  }
  for (const node of ast.nodes) {
    let instr: Instruction;
    try {
      instr = toInstruction(node, file);
    } catch (e) {
      if (e instanceof InstructionError) throw errorAt(file, lines, e.message, node.range.start.line, node.range.end.line);
      throw e;
    }
    const line = node.range.start.line;
    if (instr.kind === 'from') {
      const name = instr.stageName?.toLowerCase();
      if (name !== undefined) {
        const previous = names.get(name);
        if (previous !== undefined) throw errorAt(file, lines, `duplicate stage name ${JSON.stringify(name)}, first defined on line ${previous} (DuplicateStageName)`, line);
        names.set(name, line);
      }
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
  if (stages.length === 0) throw errorAt(file, lines, 'no build stage in current context: the Dockerfile has no FROM', 1);
  const syntax = ast.directives.find((d) => d.name === 'syntax')?.value;
  const dockerfile: Dockerfile = { file, escape: ast.escape, syntax, globalArgs, stages, warnings: [] };
  dockerfile.warnings = lint(dockerfile, ast);
  return dockerfile;
}
