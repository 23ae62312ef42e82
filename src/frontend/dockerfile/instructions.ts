// AST node → typed Instruction (one type per instruction, see types.ts), with
// every flag checked. Errors carry the node's location through one wrapper.
import type { AstNode } from './ast.js';
import type * as T from './types.js';
import { checkChecksum, FlagSet, InstructionError, parseGoDuration, suggest } from './flags.js';
import { parseChmod } from './chmod.js';
import { parseChown } from './chown.js';
import { checkMountSpec, parseMount } from './mounts.js';
import { parseHeredocWord } from './line-parsers.js';

export const KEYWORDS = [
  'from', 'run', 'cmd', 'entrypoint', 'shell', 'env', 'label', 'maintainer', 'expose', 'copy', 'add',
  'volume', 'user', 'workdir', 'arg', 'onbuild', 'stopsignal', 'healthcheck',
] as const;

type Req = { node: AstNode; source: T.InstructionSource; kw: string };

function fail(message: string): never {
  throw new InstructionError(message);
}

function noFlags(req: Req): void {
  new FlagSet({}).parse(req.node.flags, req.kw.toUpperCase());
}

function atLeast(req: Req, n: number): string[] {
  const args = req.node.args;
  if (args.length < n) fail(`${req.kw.toUpperCase()} requires at least ${n === 1 ? 'one argument' : `${n} arguments`}`);
  return args;
}

function exactlyOne(req: Req): string {
  const args = req.node.args;
  if (args.length !== 1) fail(`${req.kw.toUpperCase()} requires exactly one argument`);
  return args[0];
}

function commandLine(node: AstNode): T.CommandLine {
  if (node.json) return { form: 'exec', args: node.args };
  if (node.args.length === 0) return { form: 'exec', args: [] };
  return { form: 'shell', script: node.args.join(' ') };
}

function pairs(req: Req): T.KeyValue[] {
  const args = atLeast(req, 1);
  const out: T.KeyValue[] = [];
  for (let i = 0; i + 1 < args.length; i += 3) out.push({ key: args[i], value: args[i + 1] });
  for (const p of out) if (p.key === '') fail(`${req.kw.toUpperCase()} names can not be blank`);
  return out;
}

function parseFrom(req: Req): T.FromInstruction {
  const flags = new FlagSet({ platform: 'string' }).parse(req.node.flags, 'FROM');
  const args = req.node.args;
  if (args.length !== 1 && args.length !== 3) fail('FROM requires either one or three arguments');
  if (args.length === 3 && args[1].toLowerCase() !== 'as') fail(`FROM requires "AS" as its second argument, got ${JSON.stringify(args[1])}`);
  const stageName = args.length === 3 ? args[2] : undefined;
  if (stageName !== undefined && !/^[a-z][a-z0-9\-_.]*$/i.test(stageName)) {
    fail(`invalid name for build stage: ${JSON.stringify(stageName)}, name can't start with a number or contain symbols`);
  }
  return { kind: 'from', source: req.source, image: args[0], stageName, platform: flags.string('platform') };
}

function parseRun(req: Req): T.RunInstruction {
  const flags = new FlagSet({ mount: 'strings', network: 'string', security: 'string' }).parse(req.node.flags, 'RUN');
  atLeast(req, 1);
  const network = flags.string('network');
  if (network !== undefined && network !== 'default' && network !== 'none' && network !== 'host') {
    fail(`unsupported network mode ${JSON.stringify(network)} (default, none or host)`);
  }
  const security = flags.string('security');
  if (security !== undefined && security !== 'sandbox' && security !== 'insecure') {
    fail(`unsupported security mode ${JSON.stringify(security)} (sandbox or insecure)`);
  }
  return {
    kind: 'run', source: req.source, command: commandLine(req.node), heredocs: req.node.heredocs,
    mountSpecs: flags.strings('mount').map((spec) => (checkMountSpec(spec), spec)), network, security,
  };
}

/** Splits COPY/ADD arguments into sources, heredoc sources and the destination. */
function sourcesAndDest(req: Req): { sources: string[]; heredocs: T.Heredoc[]; dest: string } {
  const args = req.node.args;
  if (args.length < 2) {
    fail(`${req.kw.toUpperCase()} requires at least two arguments, but only ${args.length === 0 ? 'none were' : 'one was'} provided. Destination could not be determined`);
  }
  const sources: string[] = [];
  const heredocs: T.Heredoc[] = [];
  const available = [...req.node.heredocs];
  for (const src of args.slice(0, -1)) {
    const word = req.node.json ? undefined : parseHeredocWord(src);
    const doc = word && available.find((h) => h.name === word.name);
    if (doc) {
      heredocs.push(doc);
      available.splice(available.indexOf(doc), 1);
    } else sources.push(src);
  }
  return { sources, heredocs, dest: args[args.length - 1] };
}

function parseCopy(req: Req): T.CopyInstruction {
  const flags = new FlagSet({ from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' }).parse(req.node.flags, 'COPY');
  const chmod = flags.string('chmod');
  return {
    kind: 'copy', source: req.source, ...sourcesAndDest(req), from: flags.string('from'), chown: chownFlag(flags.string('chown')),
    chmod: chmodFlag(chmod), link: flags.bool('link'), parents: flags.bool('parents'),
    exclude: flags.strings('exclude'),
  };
}

function parseAdd(req: Req): T.AddInstruction {
  const flags = new FlagSet({ chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', unpack: 'bool', exclude: 'strings' }).parse(req.node.flags, 'ADD');
  const chmod = flags.string('chmod');
  const checksum = flags.string('checksum');
  // A value with variables is checked once expanded (expand.ts).
  if (checksum !== undefined && !checksum.includes('$')) checkChecksum(checksum);
  return {
    kind: 'add', source: req.source, ...sourcesAndDest(req), chown: chownFlag(flags.string('chown')),
    chmod: chmodFlag(chmod), link: flags.bool('link'), checksum,
    keepGitDir: flags.bool('keep-git-dir'), unpack: flags.optionalBool('unpack'), exclude: flags.strings('exclude'),
  };
}

/** --chmod: parsed now, or once expanded when it holds variables (`--chmod=${mode}`). */
function chmodFlag(text: string | undefined): T.ChmodSpec | undefined {
  if (text === undefined) return undefined;
  return text.includes('$') ? { text } : parseChmod(text);
}

/**
 * --chown: parsed now, or once expanded (expand.ts) when it holds variables, quotes or escapes
 * (`--chown=${owner}`, `--chown="app"`): the word's text is what expansion makes of it.
 */
function chownFlag(text: string | undefined): T.ChownSpec | undefined {
  if (text === undefined) return undefined;
  return /[$'"\\`]/.test(text) ? { text } : parseChown(text);
}

function duration(flags: FlagSet, name: string): number | undefined {
  const text = flags.string(name);
  if (text === undefined) return undefined;
  const ns = parseGoDuration(text);
  if (ns !== 0 && ns < 1e6) fail(`--${name} cannot be less than 1ms`);
  if (ns < 0) fail(`--${name} cannot be negative`);
  return ns;
}

function parseHealthcheck(req: Req): T.HealthcheckInstruction {
  const args = atLeast(req, 1);
  const type = args[0].toUpperCase();
  const base = { kind: 'healthcheck' as const, source: req.source };
  if (type === 'NONE') {
    if (args.length > 1) fail('HEALTHCHECK NONE takes no arguments');
    new FlagSet({}).parse(req.node.flags, 'HEALTHCHECK NONE');
    return { ...base, test: ['NONE'] };
  }
  if (type !== 'CMD') fail(`unknown type ${JSON.stringify(args[0])} in HEALTHCHECK (try CMD)`);
  const cmd = args.slice(1);
  if (cmd.length === 0) fail('missing command after HEALTHCHECK CMD');
  const flags = new FlagSet({ interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' }).parse(req.node.flags, 'HEALTHCHECK');
  const retriesText = flags.string('retries');
  let retries: number | undefined;
  if (retriesText !== undefined) {
    if (!/^-?\d+$/.test(retriesText)) fail(`invalid --retries value ${JSON.stringify(retriesText)}: not a number`);
    retries = Number(retriesText);
    if (retries < 0) fail('--retries cannot be negative');
  }
  return {
    ...base, test: req.node.json ? ['CMD', ...cmd] : ['CMD-SHELL', cmd.join(' ')],
    interval: duration(flags, 'interval'), timeout: duration(flags, 'timeout'), startPeriod: duration(flags, 'start-period'),
    startInterval: duration(flags, 'start-interval'), retries,
  };
}

function parseArg(req: Req): T.ArgInstruction {
  const args = atLeast(req, 1).map((word): T.ArgDefinition => {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    if (name === '') fail('ARG names can not be blank');
    return eq < 0 ? { name } : { name, defaultValue: word.slice(eq + 1) };
  });
  return { kind: 'arg', source: req.source, args };
}

function parseOnbuild(req: Req, file: string): T.OnbuildInstruction {
  const child = req.node.child;
  if (!child) fail('ONBUILD requires at least one argument');
  const kw = child.keyword.toLowerCase();
  if (kw === 'onbuild') fail('chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (kw === 'from' || kw === 'maintainer') fail(`${kw.toUpperCase()} isn't allowed as an ONBUILD trigger`);
  const line = req.node.original.replace(/^\s*onbuild\s*/i, '').trim();
  // heredoc bodies are attached to the outer ONBUILD node by the parser
  const trigger = toInstruction({ ...child, heredocs: req.node.heredocs, original: line, range: req.node.range }, file);
  // The config's OnBuild entry must re-parse to the same trigger: here-document bodies follow
  // the line, each closed by its delimiter (BuildKit's parseOnBuild).
  const expression = line + req.node.heredocs.map((h) => `\n${h.content}${h.name}`).join('');
  return { kind: 'onbuild', source: req.source, expression, trigger };
}

function dispatch(req: Req, file: string): T.Instruction {
  const { node, source, kw } = req;
  if (kw !== 'from' && kw !== 'run' && kw !== 'copy' && kw !== 'add' && kw !== 'healthcheck') noFlags(req);
  switch (kw) {
    case 'from': return parseFrom(req);
    case 'run': return parseRun(req);
    case 'cmd': return { kind: 'cmd', source, command: commandLine(node) };
    case 'entrypoint': return { kind: 'entrypoint', source, command: commandLine(node) };
    case 'shell':
      if (!node.json) fail('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', source, shell: atLeast(req, 1) };
    case 'env': return { kind: 'env', source, pairs: pairs(req) };
    case 'label': return { kind: 'label', source, pairs: pairs(req) };
    case 'maintainer': return { kind: 'maintainer', source, name: exactlyOne(req) };
    // BuildKit sorts the words (before expansion): the history lists the ports in that order.
    case 'expose': return { kind: 'expose', source, ports: [...atLeast(req, 1)].sort() };
    case 'copy': return parseCopy(req);
    case 'add': return parseAdd(req);
    case 'volume': {
      const paths = atLeast(req, 1);
      if (paths.some((p) => p.trim() === '')) fail('VOLUME specified can not be an empty string');
      return { kind: 'volume', source, paths };
    }
    case 'user': return { kind: 'user', source, user: exactlyOne(req) };
    case 'workdir': return { kind: 'workdir', source, path: exactlyOne(req) };
    case 'arg': return parseArg(req);
    case 'onbuild': return parseOnbuild(req, file);
    case 'stopsignal': return { kind: 'stopsignal', source, signal: exactlyOne(req) };
    case 'healthcheck': return parseHealthcheck(req);
    default: {
      const hint = suggest(node.keyword, KEYWORDS);
      return fail(`unknown instruction: ${node.keyword}${hint ? ` (did you mean ${hint.toUpperCase()}?)` : ''}`);
    }
  }
}

/** Types one AST node; throws InstructionError (without location). */
export function toInstruction(node: AstNode, file: string): T.Instruction {
  const source: T.InstructionSource = { file, range: node.range, original: node.original };
  return dispatch({ node, source, kw: node.keyword.toLowerCase() }, file);
}
