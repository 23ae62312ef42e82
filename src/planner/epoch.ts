// What SOURCE_DATE_EPOCH names, by BuildKit's rules (dockerfile2llb/epoch.go). Pure: the
// caller fetches a remote source. The value comes from `--build-arg SOURCE_DATE_EPOCH=…`, else
// the global `ARG SOURCE_DATE_EPOCH=…` default; it is seconds since the epoch, `context` (the
// main context's time: none for a local folder), the name of a --build-context (its time), or the
// name of a source-only stage (FROM scratch, ARGs and one remote ADD) whose source's time is the epoch.
import type { Dockerfile, Instruction, Stage } from '../frontend/dockerfile/types.js';
import { processWord } from '../frontend/dockerfile/index.js';
import { DockerfileError, NbuildError } from '../errors.js';
import { declareArgs } from './args.js';
import { contextKey } from '../context/named-contexts.js';

export type EpochSource =
  | { kind: 'none' }
  | { kind: 'seconds'; seconds: number }
  /** The one remote ADD of a source stage: its Last-Modified, else its archive's newest file. */
  | { kind: 'url'; url: string; checksum?: string; stage: string }
  /** The main context's time (a Git or HTTP context has one, a folder none). */
  | { kind: 'context' }
  /** A named context's time, by its key. */
  | { kind: 'named'; key: string };

const KEY = 'SOURCE_DATE_EPOCH';

export function sourceDateEpochSource(df: Dockerfile, buildArgs: ReadonlyMap<string, string>, globals: ReadonlyMap<string, string>, namedContexts?: ReadonlyMap<string, unknown>): EpochSource {
  const given = buildArgs.get(KEY);
  const value = given ?? (globals.get(KEY) || undefined);
  if (value === undefined || value === '') return { kind: 'none' };
  if (/^[+-]?\d+$/.test(value)) return { kind: 'seconds', seconds: Number(value) };
  if (value === 'context') return { kind: 'context' };
  // A named context comes before a stage of that name (BuildKit's resolveSourceDateEpochState).
  const key = namedContexts?.size ? contextKey(value) : undefined;
  if (key !== undefined && namedContexts?.has(key)) return { kind: 'named', key };
  const stage = df.stages.findLast((s) => s.name !== undefined && s.name === value.toLowerCase()); // the last of duplicate names, as BuildKit
  if (stage) return stageSource(df, stage, buildArgs, globals);
  const invalid = `invalid SOURCE_DATE_EPOCH: ${value}`;
  if (given !== undefined) throw new NbuildError('SOURCE_DATE_EPOCH', `${invalid} (the build arg or environment variable: seconds since the epoch, "context", or a source stage's name)`);
  const decl = df.globalArgs.find((a) => a.args.some((d) => d.name === KEY));
  throw new DockerfileError({ file: df.file, line: decl?.source.range.start.line ?? 1 }, invalid);
}

function stageSource(df: Dockerfile, stage: Stage, buildArgs: ReadonlyMap<string, string>, globals: ReadonlyMap<string, string>): EpochSource {
  const fail = (detail: string): never => {
    throw new DockerfileError({ file: df.file, line: stage.from.source.range.start.line }, detail);
  };
  const scope = new Map(globals);
  scope.delete(KEY);
  const word = (w: string): string => processWord(w, (name) => scope.get(name), df.escape);
  if (word(stage.from.image).toLowerCase() !== 'scratch') fail('SOURCE_DATE_EPOCH stage must use FROM scratch');
  let source: EpochSource | undefined;
  for (const instr of stage.instructions) {
    if (instr.kind === 'arg') {
      declareArgs(scope, instr, buildArgs, word, scope);
    } else if (instr.kind === 'add') {
      if (source) fail('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD');
      source = remoteAdd(instr, word, stage, fail);
    } else {
      fail(`SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported ${instructionName(instr)} instruction`);
    }
  }
  return source ?? fail('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD');
}

function remoteAdd(instr: Extract<Instruction, { kind: 'add' }>, word: (w: string) => string, stage: Stage, fail: (d: string) => never): EpochSource {
  if (instr.heredocs.length > 0 || instr.sources.length !== 1) fail('SOURCE_DATE_EPOCH stage must contain exactly one remote ADD source');
  const src = word(instr.sources[0]);
  if (!/^https?:\/\//i.test(src)) fail('SOURCE_DATE_EPOCH stage source must be a single HTTP(S) ADD (nbuild has no Git source)');
  return { kind: 'url', url: src, checksum: instr.checksum !== undefined ? word(instr.checksum) : undefined, stage: stage.name ?? '' };
}

/** The instruction's keyword as BuildKit names it (lowercase). */
function instructionName(instr: Instruction): string {
  return instr.source.original.trim().split(/\s+/)[0]?.toLowerCase() ?? instr.kind;
}
