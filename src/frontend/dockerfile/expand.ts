// Build-time variable substitution, per instruction, as BuildKit does it:
// ENV/ARG/LABEL/COPY/ADD/WORKDIR/USER/EXPOSE/VOLUME/STOPSIGNAL/FROM words and
// RUN --mount options are expanded; RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK are
// left to the shell; heredoc bodies are expanded (or not) by the executor.
import { DockerfileError } from '../../errors.js';
import type { EnvLookup, EscapeToken } from './shell.js';
import { processWord, ShellExpansionError } from './shell.js';
import type { Heredoc, Instruction, KeyValue, RunInstruction, RunMount } from './types.js';
import { parseChmod } from './chmod.js';
import { parseChown } from './chown.js';
import { checkChecksum, InstructionError } from './flags.js';
import { chompHeredoc } from './heredoc.js';
import { MAX_WORD_LENGTH } from './limits.js';
import { parseMount } from './mounts.js';

type Word = (w: string) => string;

const opt = (w: Word, v: string | undefined): string | undefined => (v === undefined ? undefined : w(v));
const kvs = (w: Word, pairs: KeyValue[]): KeyValue[] => pairs.map((p) => ({ key: w(p.key), value: w(p.value) }));

function expandWith<T extends Instruction>(instr: T, w: Word): Instruction {
  const i: Instruction = instr;
  switch (i.kind) {
    case 'from':
      return { ...i, image: w(i.image), platform: opt(w, i.platform) };
    case 'env':
    case 'label':
      return { ...i, pairs: kvs(w, i.pairs) };
    case 'arg':
      return { ...i, args: i.args.map((a) => (a.defaultValue === undefined ? { name: w(a.name) } : { name: w(a.name), defaultValue: w(a.defaultValue) })) };
    case 'copy':
      return { ...i, sources: i.sources.map(w), dest: w(i.dest), from: opt(w, i.from), chown: i.chown && parseChown(w(i.chown.text)), chmod: i.chmod && parseChmod(w(i.chmod.text)), exclude: i.exclude.map(w) };
    case 'add': {
      const checksum = opt(w, i.checksum);
      const sources = i.sources.map(w);
      if (checksum !== undefined) {
        checkChecksum(checksum);
        // BuildKit's rules: one source, downloaded (nbuild has no git sources)
        if (sources.length !== 1) throw new InstructionError("checksum can't be specified for multiple sources");
        if (!/^https?:\/\//.test(sources[0])) throw new InstructionError('checksum requires HTTP(S) or Git sources');
      }
      return { ...i, sources, dest: w(i.dest), chown: i.chown && parseChown(w(i.chown.text)), chmod: i.chmod && parseChmod(w(i.chmod.text)), checksum, exclude: i.exclude.map(w) };
    }
    case 'workdir':
      return { ...i, path: w(i.path) };
    case 'user':
      return { ...i, user: w(i.user) };
    case 'expose':
      // one word may expand to several ports (`EXPOSE $PORTS`)
      return { ...i, ports: i.ports.flatMap((p) => w(p).split(/[\t\n\v\f\r ]+/).filter((s) => s !== '')) };
    case 'volume':
      return { ...i, paths: i.paths.map(w) };
    case 'stopsignal':
      return { ...i, signal: w(i.signal) };
    // RUN's --mount values expand through expandRunMounts (they are parsed after expansion)
    case 'run':
    // ONBUILD triggers are stored raw and expanded when they run in a child build
    case 'onbuild':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'healthcheck':
    case 'maintainer':
      return i;
  }
}

/**
 * Returns a copy of `instr` with variables substituted from `env`; a failing
 * expansion (`${V:?msg}`, bad syntax, a word or an instruction growing past
 * MAX_WORD_LENGTH) becomes a DockerfileError at the instruction.
 */
export function expandInstruction<T extends Instruction>(instr: T, env: EnvLookup, escape: EscapeToken): T {
  return atInstruction(instr, () => {
    const out = expandWith(instr, boundedWord(env, escape));
    if (out.kind === 'copy' || out.kind === 'add') return { ...out, heredocs: out.heredocs.map((h) => expandHeredoc(h, env)) } as T;
    return out as T;
  });
}

/** RUN's `--mount` values, each field's value expanded from `env`, then parsed and checked. */
export function expandRunMounts(instr: RunInstruction, env: EnvLookup, escape: EscapeToken): RunMount[] {
  const w = boundedWord(env, escape);
  return atInstruction(instr, () => instr.mountSpecs.map((spec) => parseMount(spec, w)));
}

/** The word expander of one instruction: one word is bounded by the lexer, all of them together here (`LABEL a=$BIG b=$BIG …`). */
function boundedWord(env: EnvLookup, escape: EscapeToken): Word {
  let total = 0;
  return (word) => {
    const result = processWord(word, env, escape);
    total += result.length;
    if (total > MAX_WORD_LENGTH) throw new ShellExpansionError(word, `the instruction's words expand to more than ${MAX_WORD_LENGTH} characters (1 MiB) in all, nbuild's limit`, true);
    return result;
  };
}

/** Runs `fn`; its expansion or option error becomes a DockerfileError at the instruction. */
function atInstruction<R>(instr: Instruction, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    const { file, range } = instr.source;
    const at = { file, line: range.start.line, endLine: range.end.line };
    if (e instanceof ShellExpansionError) throw new DockerfileError(at, `${instr.kind.toUpperCase()}: ${e.detail}`, { code: e.code, cause: e });
    if (e instanceof InstructionError) throw new DockerfileError(at, `${instr.kind.toUpperCase()}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * `COPY <<EOF`: an unquoted delimiter's body has its variables expanded and backslash escapes
 * processed, quotes kept as text (BuildKit's ExpandRaw: escape `\` whatever the Dockerfile's
 * escape directive). `<<-` tabs are stripped first. The result is the file's content.
 */
function expandHeredoc(h: Heredoc, env: EnvLookup): Heredoc {
  if (!h.expand) return h;
  const content = h.chomp ? chompHeredoc(h.content) : h.content;
  return { ...h, chomp: false, expand: false, content: processWord(content, env, '\\', { skipProcessQuotes: true }) };
}
