// Build checks: BuildKit's linter rules (frontend/dockerfile/linter), same names, texts and
// scopes. They only warn, unless `# check=error=true`. `# check=skip=A,B|all`,
// `experimental=…` and a `--build-arg BUILDKIT_DOCKERFILE_CHECK=…` (which replaces the
// directive) configure them; a `# check=…` comment right above an instruction applies to it
// alone. Rules BuildKit runs while dispatching a stage carry the stage: a build reports those of
// the stages it builds, `nbuild check` all of them.
import type { AstNode, DockerfileAst } from './ast.js';
import type { Dockerfile, FromInstruction, Instruction, Stage, Warning } from './types.js';
import { expandInstruction, expandRunMounts } from './expand.js';
import { processWordWithMatches, type EnvLookup } from './shell.js';
import { distance } from './flags.js';
import { DockerfileError } from '../../errors.js';

/** ARGs every build defines (BuildKit's automatic platform, stage and proxy ARGs; planner/args.ts gives their values). */
export const PREDEFINED_ARGS = [
  'TARGETPLATFORM', 'TARGETOS', 'TARGETOSVERSION', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE',
  'BUILDPLATFORM', 'BUILDOS', 'BUILDOSVERSION', 'BUILDARCH', 'BUILDVARIANT',
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

/** The global-scope ARGs BuildKit defines itself (dockerfile2llb defaultArgs). */
const DEFAULT_GLOBAL_ARGS = [
  'BUILDPLATFORM', 'BUILDOS', 'BUILDOSVERSION', 'BUILDARCH', 'BUILDVARIANT',
  'TARGETPLATFORM', 'TARGETOS', 'TARGETOSVERSION', 'TARGETARCH', 'TARGETVARIANT', 'TARGETSTAGE',
];

interface Rule {
  description: string;
  url?: string;
  experimental?: boolean;
}

const url = (slug: string): string => `https://docs.docker.com/go/dockerfile/rule/${slug}/`;

/** BuildKit's rule set (linter/ruleset.go): name → description and documentation. */
export const RULES: Record<string, Rule> = {
  StageNameCasing: { description: 'Stage names should be lowercase', url: url('stage-name-casing') },
  FromAsCasing: { description: "The 'as' keyword should match the case of the 'from' keyword", url: url('from-as-casing') },
  NoEmptyContinuation: { description: 'Empty continuation lines will become errors in a future release', url: url('no-empty-continuation') },
  ConsistentInstructionCasing: { description: 'All commands within the Dockerfile should use the same casing (either upper or lower)', url: url('consistent-instruction-casing') },
  DuplicateStageName: { description: 'Stage names should be unique', url: url('duplicate-stage-name') },
  ReservedStageName: { description: 'Reserved words should not be used as stage names', url: url('reserved-stage-name') },
  JSONArgsRecommended: { description: 'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals', url: url('json-args-recommended') },
  MaintainerDeprecated: { description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author', url: url('maintainer-deprecated') },
  UndefinedArgInFrom: { description: 'FROM command must use declared ARGs', url: url('undefined-arg-in-from') },
  WorkdirRelativePath: { description: 'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes', url: url('workdir-relative-path') },
  UndefinedVar: { description: 'Variables should be defined before their use', url: url('undefined-var') },
  MultipleInstructionsDisallowed: { description: 'Multiple instructions of the same type should not be used in the same stage', url: url('multiple-instructions-disallowed') },
  LegacyKeyValueFormat: { description: 'Legacy key/value format with whitespace separator should not be used', url: url('legacy-key-value-format') },
  InvalidBaseImagePlatform: { description: 'Base image platform does not match expected target platform' },
  RedundantTargetPlatform: { description: 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior', url: url('redundant-target-platform') },
  SecretsUsedInArgOrEnv: { description: 'Sensitive data should not be used in the ARG or ENV commands', url: url('secrets-used-in-arg-or-env') },
  InvalidDefaultArgInFrom: { description: 'Default value for global ARG results in an empty or invalid base image name', url: url('invalid-default-arg-in-from') },
  FromPlatformFlagConstDisallowed: { description: 'FROM --platform flag should not use a constant value', url: url('from-platform-flag-const-disallowed') },
  CopyIgnoredFile: { description: 'Attempting to Copy file that is excluded by .dockerignore', url: url('copy-ignored-file') },
  InvalidDefinitionDescription: {
    description: 'Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.',
    url: url('invalid-definition-description'),
    experimental: true,
  },
  ExposeProtoCasing: { description: 'Protocol in EXPOSE instruction should be lowercase', url: url('expose-proto-casing') },
  ExposeInvalidFormat: { description: 'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release', url: url('expose-invalid-format') },
};

/** `# check=skip=…;error=…;experimental=…` (linter.ParseLintOptions). */
interface CheckConfig {
  skipAll: boolean;
  skip: Set<string>;
  experimentalAll: boolean;
  experimental: Set<string>;
  error: boolean;
}

const NO_CONFIG: CheckConfig = { skipAll: false, skip: new Set(), experimentalAll: false, experimental: new Set(), error: false };

/** Parses a check option string; undefined when it is malformed (BuildKit then ignores a comment's). */
function parseCheckConfig(text: string): CheckConfig | undefined {
  const config: CheckConfig = { ...NO_CONFIG, skip: new Set(), experimental: new Set() };
  if (text.trim() === '') return config;
  for (const part of text.trim().split(';').slice(0, 3)) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const names = value.split(',').map((s) => s.trim());
    if (key === 'skip') {
      if (value === 'all') config.skipAll = true;
      else names.forEach((n) => config.skip.add(n));
    } else if (key === 'experimental') {
      if (value === 'all') config.experimentalAll = true;
      else names.forEach((n) => config.experimental.add(n));
    } else if (key === 'error') {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) return undefined;
      config.error = /^(1|t|T|TRUE|true|True)$/.test(value);
    } else return undefined;
  }
  return config;
}

function merged(base: CheckConfig, extra: CheckConfig): CheckConfig {
  return {
    skipAll: base.skipAll || extra.skipAll,
    skip: new Set([...base.skip, ...extra.skip]),
    experimentalAll: base.experimentalAll || extra.experimentalAll,
    experimental: new Set([...base.experimental, ...extra.experimental]),
    error: base.error,
  };
}

/** The config for one instruction: the first `check=` comment right above it adds to the file's. */
function withComments(config: CheckConfig, comments: readonly string[]): CheckConfig {
  for (const comment of comments) {
    const m = /^check\s*=\s*(\S*)/i.exec(comment);
    if (!m) continue;
    const extra = parseCheckConfig(m[1]);
    return extra ? merged(config, extra) : config;
  }
  return config;
}

function enabled(config: CheckConfig, rule: string): boolean {
  if (RULES[rule]?.experimental) return config.experimentalAll || config.experimental.has(rule);
  return !config.skipAll && !config.skip.has(rule);
}

export interface CheckOptions {
  /** Build args: BUILDKIT_DOCKERFILE_CHECK replaces the `# check=` directive; values feed expansions. */
  buildArgs?: ReadonlyMap<string, string>;
  /** The context's .dockerignore (for CopyIgnoredFile). */
  ignore?: { hasExceptions: boolean; excludesRoot(): boolean; excludes(relPath: string, isDir: boolean): boolean };
  /** The Env and Shell of a base image, by the name FROM resolves to; undefined when not known. */
  image?: (ref: string) => { Env?: string[] | null; Shell?: string[] | null } | undefined;
}

/** The `# check=` configuration a build uses. */
function fileConfig(ast: DockerfileAst, options: CheckOptions): CheckConfig {
  const override = options.buildArgs?.get('BUILDKIT_DOCKERFILE_CHECK');
  const text = override ?? ast.directives.find((d) => d.name === 'check')?.value ?? '';
  return parseCheckConfig(text) ?? NO_CONFIG;
}

/** BuildKit's suggest.Search: the closest option within distance 2, none for an exact match. */
function closest(word: string, options: Iterable<string>, caseSensitive = true): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  const w = caseSensitive ? word : word.toLowerCase();
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === w) return undefined;
    const d = distance(w, o);
    if (d < bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best;
}

type Report = (rule: string, message: string, line: number, config: CheckConfig, stage?: number) => void;

const line = (i: { source: { range: { start: { line: number } } } }): number => i.source.range.start.line;

/** What parse.go checks while typing each instruction (MAINTAINER, FROM's name, descriptions). */
function instructionChecks(df: Dockerfile, nodes: Map<number, AstNode>, config: CheckConfig, report: Report): void {
  const visit = (i: Instruction): void => {
    const node = nodes.get(line(i));
    const c = withComments(config, node?.comments ?? []);
    if (i.kind === 'maintainer') report('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', line(i), c);
    if (i.kind === 'from' && node) {
      const [, as, name] = node.args;
      if (name !== undefined && name !== name.toLowerCase()) report('StageNameCasing', `Stage name '${name}' should be lowercase`, line(i), c);
      const kw = node.keyword;
      const consistent = kw === kw.toLowerCase() || kw === kw.toUpperCase();
      if (as !== undefined && name !== undefined && consistent && as !== (kw === kw.toLowerCase() ? as.toLowerCase() : as.toUpperCase())) {
        report('FromAsCasing', `'${as}' and '${kw}' keywords' casing do not match`, line(i), c);
      }
      if (i.stageName !== undefined) definitionDescription('FROM', [i.stageName.toLowerCase()], node.comments, line(i), c, report);
    }
    if (i.kind === 'arg' && node) definitionDescription('ARG', i.args.map((a) => a.name), node.comments, line(i), c, report);
  };
  df.globalArgs.forEach(visit);
  for (const stage of df.stages) {
    visit(stage.from);
    stage.instructions.forEach(visit);
  }
}

function definitionDescription(instruction: string, keys: string[], comments: readonly string[], l: number, c: CheckConfig, report: Report): void {
  if (comments.length === 0 || keys.length === 0) return;
  if (keys.includes(comments[comments.length - 1].split(' ')[0])) return;
  const example = keys.length > 1 ? '<arg_key>' : keys[0];
  report('InvalidDefinitionDescription', `Comment for ${instruction} should follow the format: \`# ${example} <description>\``, l, c);
}

/** validateStageNames and validateCommandCasing: over every stage, after parsing. */
function fileChecks(df: Dockerfile, nodes: Map<number, AstNode>, config: CheckConfig, report: Report): void {
  const seen = new Set<string>();
  for (const stage of df.stages) {
    if (stage.name === undefined) continue;
    if (stage.name === 'scratch' || stage.name === 'context') report('ReservedStageName', `Stage name should not use the same name as reserved stage ${JSON.stringify(stage.name)}`, line(stage.from), config);
    if (seen.has(stage.name)) report('DuplicateStageName', `Duplicate stage name ${JSON.stringify(stage.name)}, stage names should be unique`, line(stage.from), config);
    seen.add(stage.name);
  }
  const keywords = df.stages.flatMap((s) => [s.from, ...s.instructions]).flatMap((i) => {
    const node = nodes.get(line(i));
    return node ? [{ kw: node.keyword, line: line(i) }] : [];
  });
  const consistent = (kw: string): boolean => kw === kw.toLowerCase() || kw === kw.toUpperCase();
  const lower = keywords.filter((k) => consistent(k.kw) && k.kw === k.kw.toLowerCase()).length;
  const upper = keywords.filter((k) => consistent(k.kw) && k.kw !== k.kw.toLowerCase()).length;
  const majorityLower = lower > upper;
  for (const { kw, line: l } of keywords) {
    const wrong = majorityLower ? kw !== kw.toLowerCase() : kw !== kw.toUpperCase();
    if (wrong) report('ConsistentInstructionCasing', `Command '${kw}' should match the case of the command majority (${majorityLower ? 'lowercase' : 'uppercase'})`, l, config);
  }
}

/** The global ARG values FROM lines see: BuildKit's defaults, then the ARGs before the first FROM. */
function globalScope(df: Dockerfile, buildArgs: ReadonlyMap<string, string>): { values: Map<string, string>; declared: Set<string> } {
  const values = new Map<string, string>();
  for (const name of DEFAULT_GLOBAL_ARGS) values.set(name, buildArgs.get(name) ?? '');
  const declared = new Set<string>();
  for (const instr of df.globalArgs) {
    for (const def of instr.args) {
      declared.add(def.name);
      const given = buildArgs.get(def.name);
      if (given !== undefined) values.set(def.name, given);
      else if (def.defaultValue !== undefined) {
        try {
          values.set(def.name, processWordWithMatches(def.defaultValue, (n) => values.get(n), df.escape).result);
        } catch {
          // reported by the build
        }
      }
    }
  }
  return { values, declared };
}

/** Expands a FROM word, or undefined when the build reports it as an error. */
function fromWord(word: string, env: EnvLookup, df: Dockerfile): ReturnType<typeof processWordWithMatches> | undefined {
  try {
    return processWordWithMatches(word, env, df.escape);
  } catch {
    return undefined;
  }
}

/** What dockerfile2llb checks of each FROM (every stage): undeclared ARGs, platform, default-arg names. */
function fromChecks(df: Dockerfile, nodes: Map<number, AstNode>, config: CheckConfig, buildArgs: ReadonlyMap<string, string>, report: Report): void {
  const given = globalScope(df, buildArgs);
  const defaults = globalScope(df, new Map());
  const keys = new Set([...given.values.keys(), ...given.declared]);
  for (const stage of df.stages) {
    const from = stage.from;
    const c = withComments(config, nodes.get(line(from))?.comments ?? []);
    const undeclared = (unmatched: Set<string>): void => {
      for (const name of unmatched) {
        if (keys.has(name)) continue;
        const hint = closest(name, keys);
        report('UndefinedArgInFrom', `FROM argument '${name}' is not declared${hint ? ` (did you mean ${hint}?)` : ''}`, line(from), c);
      }
    };
    const image = fromWord(from.image, (n) => given.values.get(n), df);
    if (image) undeclared(image.unmatched);
    if (from.platform !== undefined) {
      const platform = fromWord(from.platform, (n) => given.values.get(n), df);
      if (platform) {
        undeclared(platform.unmatched);
        platformChecks(from, platform, c, report);
      }
    }
    const byDefault = fromWord(from.image, (n) => defaults.values.get(n), df);
    if (byDefault && !isImageName(byDefault.result)) {
      report('InvalidDefaultArgInFrom', `Default value for ARG ${from.image} results in empty or invalid base image name`, line(from), c);
    }
  }
}

function platformChecks(from: FromInstruction, platform: ReturnType<typeof processWordWithMatches>, c: CheckConfig, report: Report): void {
  const written = from.platform ?? '';
  if (platform.matched.size === 1 && platform.unmatched.size === 0 && platform.matched.has('TARGETPLATFORM') && /^\$(\{TARGETPLATFORM\}|TARGETPLATFORM)$/.test(written.trim())) {
    report('RedundantTargetPlatform', `Setting platform to predefined ${written} in FROM is redundant as this is the default behavior`, line(from), c);
  }
  if (platform.matched.size === 0 && platform.unmatched.size === 0) {
    const [os, arch] = platform.result.split('/');
    if (!os || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/.test(platform.result)) return;
    const name = from.stageName?.toLowerCase() ?? '';
    if (name.includes(os) || (arch !== undefined && name.includes(arch))) return;
    report('FromPlatformFlagConstDisallowed', `FROM --platform flag should not use constant value ${JSON.stringify(platform.result)}`, line(from), c);
  }
}

/** reference.ParseNormalizedNamed, roughly: `[host/]path[:tag][@digest]`, lowercase path, or `scratch`. */
function isImageName(ref: string): boolean {
  const m = /^((?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(:[\w][\w.-]{0,127})?(@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$/.exec(ref);
  return m !== null;
}

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|version)(?:_|$)/i;

/** The state a stage's dispatch carries: variables in scope, SHELL, WORKDIR set, last CMD & co. */
interface StageScope {
  /** Variables and their values (image Env, ENV, ARG); undefined: the base image is not known. */
  env?: Map<string, string>;
  declared: Set<string>;
  shell: boolean;
  workdirSet: boolean;
}

/** What dockerfile2llb checks while dispatching a stage's instructions (tagged with the stage). */
function dispatchChecks(df: Dockerfile, nodes: Map<number, AstNode>, config: CheckConfig, options: CheckOptions, report: Report): void {
  const buildArgs = options.buildArgs ?? new Map<string, string>();
  const globals = globalScope(df, buildArgs);
  const finished = new Map<string, StageScope>();
  for (const stage of df.stages) {
    const scope = baseScope(df, stage, finished, globals.values, options);
    const used = new Map<string, number>();
    for (const instr of stage.instructions) {
      const c = withComments(config, nodes.get(line(instr))?.comments ?? []);
      const r = (rule: string, message: string, l = line(instr)): void => report(rule, message, l, c, stage.index);
      dispatchOne(df, instr, nodes.get(line(instr)), scope, used, globals, buildArgs, options, r);
    }
    if (stage.name !== undefined) finished.set(stage.name, scope);
  }
}

function baseScope(df: Dockerfile, stage: Stage, finished: Map<string, StageScope>, globals: Map<string, string>, options: CheckOptions): StageScope {
  const image = fromWord(stage.from.image, (n) => globals.get(n), df)?.result ?? stage.from.image;
  const parent = finished.get(image.toLowerCase());
  if (parent) return { env: parent.env && new Map(parent.env), declared: new Set(parent.declared), shell: parent.shell, workdirSet: parent.workdirSet };
  if (image.toLowerCase() === 'scratch') return { env: new Map([['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']]), declared: new Set(), shell: false, workdirSet: false };
  const config = options.image?.(image);
  const env = config ? new Map((config.Env ?? []).map((e) => [e.slice(0, e.includes('=') ? e.indexOf('=') : e.length), e.includes('=') ? e.slice(e.indexOf('=') + 1) : ''] as [string, string])) : undefined;
  return { env, declared: new Set(), shell: (config?.Shell ?? []).length > 0, workdirSet: false };
}

function dispatchOne(
  df: Dockerfile,
  instr: Instruction,
  node: AstNode | undefined,
  scope: StageScope,
  used: Map<string, number>,
  globals: { values: Map<string, string>; declared: Set<string> },
  buildArgs: ReadonlyMap<string, string>,
  options: CheckOptions,
  r: (rule: string, message: string, l?: number) => void,
): void {
  const expanded = expandForCheck(df, instr, scope, r);
  switch (instr.kind) {
    case 'env':
    case 'label':
      if (node && node.args[2] === '') {
        const kw = instr.kind.toUpperCase();
        r('LegacyKeyValueFormat', `"${kw} key=value" should be used instead of legacy "${kw} key value" format`);
      }
      if (instr.kind === 'env' && expanded?.kind === 'env') {
        for (const p of expanded.pairs) {
          if (SECRET.test(p.key) && !NOT_SECRET.test(p.key)) r('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (ENV ${JSON.stringify(p.key)})`);
          scope.env?.set(p.key, p.value);
        }
      }
      break;
    case 'arg':
      for (const def of instr.args) {
        if (SECRET.test(def.name) && !NOT_SECRET.test(def.name)) r('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (ARG ${JSON.stringify(def.name)})`);
        scope.declared.add(def.name);
        const given = buildArgs.get(def.name);
        const value = given ?? (def.defaultValue !== undefined && expanded?.kind === 'arg' ? expanded.args.find((a) => a.name === def.name)?.defaultValue : globals.values.get(def.name));
        if (value !== undefined) scope.env?.set(def.name, value);
      }
      break;
    case 'workdir': {
      const dir = expanded?.kind === 'workdir' ? expanded.path : instr.path;
      if (!scope.workdirSet && !dir.startsWith('/')) r('WorkdirRelativePath', `Relative workdir ${JSON.stringify(dir)} can have unexpected results if the base image changes`);
      scope.workdirSet = true;
      break;
    }
    case 'shell':
      scope.shell = instr.shell.length > 0;
      break;
    case 'cmd':
    case 'entrypoint':
    case 'healthcheck': {
      const name = node?.keyword ?? instr.kind.toUpperCase();
      const previous = used.get(instr.kind);
      // reported where the instruction that no longer counts is
      if (previous !== undefined) r('MultipleInstructionsDisallowed', `Multiple ${name} instructions should not be used in the same stage because only the last one will be used`, previous);
      used.set(instr.kind, line(instr));
      if (instr.kind !== 'healthcheck' && instr.command.form === 'shell' && !scope.shell) {
        r('JSONArgsRecommended', `JSON arguments recommended for ${name} to prevent unintended behavior related to OS signals`);
      }
      break;
    }
    case 'expose':
      for (const port of expanded?.kind === 'expose' ? expanded.ports : []) exposeChecks(port, r);
      break;
    case 'copy':
    case 'add':
      if (expanded && (expanded.kind === 'copy' || expanded.kind === 'add') && !(expanded.kind === 'copy' && expanded.from !== undefined)) {
        for (const src of expanded.sources) copyIgnoredCheck(src, expanded.kind === 'add' ? 'Add' : 'Copy', options, r);
      }
      break;
    default:
      break;
  }
}

/** Expands as the build will, reporting variables the stage does not define (UndefinedVar). */
function expandForCheck(df: Dockerfile, instr: Instruction, scope: StageScope, r: (rule: string, message: string) => void): Instruction | undefined {
  const env = scope.env;
  const missing: string[] = [];
  const lookup: EnvLookup = (name) => {
    const value = env?.get(name);
    if (value === undefined && !scope.declared.has(name)) missing.push(name);
    return value;
  };
  let expanded: Instruction | undefined;
  try {
    // ARG values are read from build args first; only a default is expanded (dispatchArg)
    expanded = expandInstruction(instr, lookup, df.escape);
    if (instr.kind === 'run') expandRunMounts(instr, lookup, df.escape);
  } catch {
    // the build reports expansion errors
  }
  if (env !== undefined) {
    for (const name of new Set(missing)) {
      const hint = closest(name, env.keys());
      r('UndefinedVar', `Usage of undefined variable '$${name}'${hint ? ` (did you mean $${hint}?)` : ''}`);
    }
  }
  return expanded;
}

/** `[ip:][hostPort:]containerPort[/proto]` (nat.ParsePortSpec's split). */
function exposeChecks(raw: string, r: (rule: string, message: string) => void): void {
  const parts = raw.split(':');
  const n = parts.length;
  const ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  const hostPort = n >= 2 ? parts[n - 2] : '';
  const slash = parts[n - 1].indexOf('/');
  const proto = slash < 0 ? '' : parts[n - 1].slice(slash + 1);
  if (proto !== proto.toLowerCase()) r('ExposeProtoCasing', `Defined protocol '${raw}' in EXPOSE instruction should be lowercase`);
  if (ip !== '' || hostPort !== '') r('ExposeInvalidFormat', `EXPOSE instruction should not define an IP address or host-port mapping, found '${raw}'`);
}

/** validateCopySourcePath: a context source .dockerignore excludes (not checked when it has `!` exceptions). */
function copyIgnoredCheck(src: string, cmd: string, options: CheckOptions, r: (rule: string, message: string) => void): void {
  const ignore = options.ignore;
  if (!ignore || ignore.hasExceptions || /^https?:\/\//i.test(src)) return;
  const clean = cleanSlashPath(src);
  if (clean === '.' || clean === '/') {
    if (ignore.excludesRoot()) r('CopyIgnoredFile', `Attempting to ${cmd} file ${JSON.stringify(clean)} that is excluded by .dockerignore`);
    return;
  }
  if (ignore.excludes(clean.replace(/^\/+/, ''), false)) r('CopyIgnoredFile', `Attempting to ${cmd} file ${JSON.stringify(clean)} that is excluded by .dockerignore`);
}

/** Go's filepath.Clean on a slash path. */
function cleanSlashPath(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(seg);
  }
  const joined = out.join('/');
  return abs ? `/${joined}` : joined || '.';
}

/**
 * Every warning of the Dockerfile (BuildKit's order of checks). `stage` on a warning: it comes
 * from dispatching that stage, so a build that does not build the stage does not report it.
 */
export function lint(df: Dockerfile, ast: DockerfileAst, options: CheckOptions = {}): Warning[] {
  const config = fileConfig(ast, options);
  const warnings: Warning[] = [];
  const report: Report = (rule, message, l, c, stage) => {
    if (!enabled(c, rule)) return;
    const meta = RULES[rule];
    warnings.push({ rule, message, file: df.file, line: l, description: meta?.description ?? message, ...(meta?.url ? { url: meta.url } : {}), ...(stage !== undefined ? { stage } : {}) });
  };
  const nodes = new Map(ast.nodes.map((n) => [n.range.start.line, n]));
  for (const w of ast.warnings) if (w.rule === 'NoEmptyContinuation') report(w.rule, 'Empty continuation line', w.line, config);
  instructionChecks(df, nodes, config, report);
  fileChecks(df, nodes, config, report);
  fromChecks(df, nodes, config, options.buildArgs ?? new Map(), report);
  dispatchChecks(df, nodes, config, options, report);
  return warnings;
}

/** Warnings of a Dockerfile that does not parse: what BuildKit checks before the bad line (parse.go's). */
export function lintBeforeError(df: Dockerfile, ast: DockerfileAst): Warning[] {
  const config = fileConfig(ast, {});
  const warnings: Warning[] = [];
  const report: Report = (rule, message, l, c) => {
    if (enabled(c, rule)) warnings.push({ rule, message, file: df.file, line: l, description: RULES[rule]?.description ?? message, ...(RULES[rule]?.url ? { url: RULES[rule].url } : {}) });
  };
  for (const w of ast.warnings) if (w.rule === 'NoEmptyContinuation') report(w.rule, 'Empty continuation line', w.line, config);
  instructionChecks(df, new Map(ast.nodes.map((n) => [n.range.start.line, n])), config, report);
  return warnings;
}

/**
 * `# check=error=true`: the build fails when a check fired, naming the rules (BuildKit's
 * "lint violation found for rules: …"), at the first warning's line.
 */
export function lintViolation(df: Dockerfile, ast: DockerfileAst, warnings: readonly Warning[], options: CheckOptions = {}): DockerfileError | undefined {
  if (!fileConfig(ast, options).error || warnings.length === 0) return undefined;
  const rules = [...new Set(warnings.map((w) => w.rule))];
  const first = [...warnings].sort((a, b) => a.line - b.line)[0];
  return new DockerfileError({ file: df.file, line: first.line }, `lint violation found for rules: ${rules.join(', ')}`, { code: 'LINT_VIOLATION' });
}

/** The base image names FROM lines resolve to (global ARGs with the build args applied). */
export function baseImageNames(df: Dockerfile, buildArgs: ReadonlyMap<string, string> = new Map()): string[] {
  const { values } = globalScope(df, buildArgs);
  const stageNames = new Set(df.stages.flatMap((s) => (s.name ? [s.name] : [])));
  const out = new Set<string>();
  for (const stage of df.stages) {
    const image = fromWord(stage.from.image, (n) => values.get(n), df)?.result;
    if (image && image.toLowerCase() !== 'scratch' && !stageNames.has(image.toLowerCase())) out.add(image);
  }
  return [...out];
}
