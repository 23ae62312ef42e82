// The Dockerfile front end: text → typed Dockerfile (pure; no I/O).
import { parseAst } from './parser.js';
import { toDockerfile } from './stages.js';
import type { Dockerfile } from './types.js';

export * from './types.js';
export { parseAst } from './parser.js';
export { dumpAst, type AstNode, type DockerfileAst, type Directive, type ParserWarning } from './ast.js';
export {
  processWord,
  processWords,
  processWordWithMatches,
  envFromList,
  ShellExpansionError,
  type EnvLookup,
  type EscapeToken,
  type ProcessResult,
  type ShellOptions,
} from './shell.js';
export { expandInstruction, expandRunMounts } from './expand.js';
export { PREDEFINED_ARGS, lint, lintViolation, baseImageNames, RULES, type CheckOptions } from './checks.js';
export { DockerfileParseError } from './stages.js';
export { chompHeredoc } from './heredoc.js';

/** Parses and types a Dockerfile; throws DockerfileError naming FILE:LINE. */
export function parseDockerfile(text: string, file: string): Dockerfile {
  const ast = parseAst(text, file);
  return toDockerfile(ast, file, text.split('\n'));
}
