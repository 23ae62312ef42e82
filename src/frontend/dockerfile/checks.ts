// Build checks (BuildKit's linter rules, same names) run on a typed Dockerfile.
// They only warn; `# check=skip=Rule1,Rule2` or `skip=all` silences them.
import type { AstNode, DockerfileAst } from './ast.js';
import type { Dockerfile, Instruction, Stage, Warning } from './types.js';
import { expandInstruction } from './expand.js';

/** ARGs every build defines (BuildKit's automatic platform, stage and proxy ARGs; planner/args.ts gives their values). */
export const PREDEFINED_ARGS = [
  'TARGETPLATFORM', 'TARGETOS', 'TARGETOSVERSION', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE',
  'BUILDPLATFORM', 'BUILDOS', 'BUILDOSVERSION', 'BUILDARCH', 'BUILDVARIANT',
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

type Emit = (rule: string, message: string, line: number) => void;

function line(i: Instruction): number {
  return i.source.range.start.line;
}

function checkStageNames(df: Dockerfile, ast: DockerfileAst, emit: Emit): void {
  const fromNodes = ast.nodes.filter((n) => n.keyword.toLowerCase() === 'from');
  df.stages.forEach((stage, k) => {
    const written = stage.from.stageName;
    const l = line(stage.from);
    if (written === undefined) return;
    if (written !== written.toLowerCase()) emit('StageNameCasing', `Stage name '${written}' should be lowercase`, l);
    if (written.toLowerCase() === 'scratch' || written.toLowerCase() === 'context') emit('ReservedStageName', `'${written}' is reserved and should not be used as a stage name`, l);
    const node = fromNodes[k];
    const as = node?.args[1] ?? '';
    const fromUpper = node.keyword === node.keyword.toUpperCase();
    if ((fromUpper && as !== as.toUpperCase()) || (!fromUpper && node.keyword === node.keyword.toLowerCase() && as !== as.toLowerCase())) {
      emit('FromAsCasing', `'${as}' and '${node.keyword}' keywords' casing do not match`, l);
    }
  });
}

function checkCasing(ast: DockerfileAst, emit: Emit): void {
  const upper = ast.nodes.filter((n) => n.keyword === n.keyword.toUpperCase()).length;
  const majorityUpper = upper * 2 >= ast.nodes.length;
  for (const n of ast.nodes) {
    const ok = majorityUpper ? n.keyword === n.keyword.toUpperCase() : n.keyword === n.keyword.toLowerCase();
    if (!ok) emit('ConsistentInstructionCasing', `Command '${n.keyword}' should match the case of the command majority (${majorityUpper ? 'uppercase' : 'lowercase'})`, n.range.start.line);
  }
}

function checkInstructions(stage: Stage, byLine: Map<number, AstNode>, emit: Emit): void {
  const seen = new Map<string, number>();
  for (const i of stage.instructions) {
    if ((i.kind === 'cmd' || i.kind === 'entrypoint') && i.command.form === 'shell') {
      emit('JSONArgsRecommended', `JSON arguments recommended for ${i.kind.toUpperCase()} to prevent unintended behavior related to OS signals`, line(i));
    }
    if (i.kind === 'maintainer') emit('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', line(i));
    if (i.kind === 'cmd' || i.kind === 'entrypoint' || i.kind === 'healthcheck') {
      const count = (seen.get(i.kind) ?? 0) + 1;
      seen.set(i.kind, count);
      if (count > 1) emit('MultipleInstructionsDisallowed', `Multiple ${i.kind.toUpperCase()} instructions should not be used in the same stage because only the last one will be used`, line(i));
    }
    if (i.kind === 'env' || i.kind === 'label') {
      const node = byLine.get(line(i));
      if (node && node.args[2] === '') {
        const kw = i.kind.toUpperCase();
        emit('LegacyKeyValueFormat', `"${kw} key=value" should be used instead of legacy "${kw} key value" format`, line(i));
      }
    }
  }
}

/** Records the names an instruction's expansion looks up without finding them. */
function undefinedNames(i: Instruction, defined: Set<string>, escape: Dockerfile['escape']): string[] {
  const missing: string[] = [];
  try {
    expandInstruction(i, (name) => {
      if (defined.has(name)) return '';
      missing.push(name);
      return undefined;
    }, escape);
  } catch {
    // expansion errors are reported when building; the check only names variables
  }
  return missing;
}

function checkVariables(df: Dockerfile, emit: Emit): void {
  const globals = new Set(PREDEFINED_ARGS);
  for (const a of df.globalArgs) for (const d of a.args) globals.add(d.name);
  const known = new Map<string, boolean>(); // stage name → environment fully known
  for (const stage of df.stages) {
    for (const name of undefinedNames(stage.from, globals, df.escape)) {
      emit('UndefinedArgInFrom', `FROM argument '${name}' is not declared`, line(stage.from));
    }
    const image = stage.from.image.toLowerCase();
    // A base image may define any variable; only stages built from scratch are checked.
    const fullyKnown = image === 'scratch' || known.get(image) === true;
    if (stage.name !== undefined) known.set(stage.name, fullyKnown);
    if (!fullyKnown) continue;
    const defined = new Set<string>(PREDEFINED_ARGS);
    for (const i of stage.instructions) {
      for (const name of undefinedNames(i, defined, df.escape)) emit('UndefinedVar', `Usage of undefined variable '$${name}'`, line(i));
      if (i.kind === 'env') for (const p of i.pairs) defined.add(p.key);
      if (i.kind === 'arg') for (const a of i.args) defined.add(a.name);
    }
  }
}

/** Parses `# check=skip=A,B;error=true` into the set of skipped rules ('all' skips all). */
function skippedRules(ast: DockerfileAst): Set<string> {
  const value = ast.directives.find((d) => d.name === 'check')?.value ?? '';
  const skip = /(?:^|;)\s*skip\s*=\s*([^;]*)/i.exec(value)?.[1] ?? '';
  return new Set(skip.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''));
}

export function lint(df: Dockerfile, ast: DockerfileAst): Warning[] {
  const skipped = skippedRules(ast);
  const warnings: Warning[] = [];
  const emit: Emit = (rule, message, l) => {
    if (skipped.has('all') || skipped.has(rule.toLowerCase())) return;
    warnings.push({ rule, message, file: df.file, line: l });
  };
  for (const w of ast.warnings) emit(w.rule, w.message, w.line);
  checkStageNames(df, ast, emit);
  checkCasing(ast, emit);
  const byLine = new Map(ast.nodes.map((n) => [n.range.start.line, n]));
  for (const stage of df.stages) checkInstructions(stage, byLine, emit);
  checkVariables(df, emit);
  return warnings.sort((a, b) => a.line - b.line);
}
