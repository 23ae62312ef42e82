// The image history as BuildKit writes it, so `docker history` and tools reading it see what
// they see for docker build: each step's entry and its time (addHistory, createdTime, and
// settleHistoryTimes for config-only steps when the image is written), and the `created_by`
// text (dockerfile2llb: commitToHistory and its callers). Steps that make a layer (RUN, COPY,
// ADD) end with ` # buildkit`.
import type { Instruction } from '../frontend/dockerfile/types.js';
import type { Layer } from '../image/image.js';
import type { History } from '../image/types.js';
import type { StageState } from './state.js';
import { isoTime } from '../iso-time.js';

const LAYER_MARK = ' # buildkit';

/**
 * RUN: the argv joined by spaces, after `|N K=V…` when the stage declared ARGs (each once, in
 * the order first declared, with the value the step sees; BuildKit's runCommandString).
 */
export function runHistory(argv: string[], declared: readonly string[], value: (name: string) => string | undefined): string {
  const args = declared.map((name) => `${name}=${value(name) ?? ''}`);
  const prefix = args.length > 0 ? [`|${args.length}`, ...args] : [];
  return `RUN ${[...prefix, ...argv].join(' ')}${LAYER_MARK}`;
}

/** COPY/ADD: its --parents, --chown and --chmod (not --from), the sources, `<<NAME` heredocs, the destination. */
export function copyHistory(instr: Extract<Instruction, { kind: 'copy' | 'add' }>): string {
  const words: string[] = [instr.kind.toUpperCase()];
  if (instr.kind === 'copy' && instr.parents) words.push('--parents');
  if (instr.chown?.text) words.push(`--chown=${instr.chown.text}`);
  if (instr.chmod) words.push(`--chmod=${instr.chmod.text}`);
  words.push(...instr.sources, ...instr.heredocs.map((h) => `<<${h.name}`), instr.dest);
  return words.join(' ') + LAYER_MARK;
}

/** ARG: each name, with `=VALUE` when it has a value in the stage. */
export function argHistory(names: readonly string[], value: (name: string) => string | undefined): string {
  return `ARG ${names.map((n) => (value(n) !== undefined ? `${n}=${value(n)}` : n)).join(' ')}`;
}

/** Go's `%q` of a string slice: `["a" "b"]` (CMD and ENTRYPOINT). */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's `%v` of a string slice: `[a b]` (SHELL, VOLUME, EXPOSE). */
export function goList(list: readonly string[]): string {
  return `[${list.join(' ')}]`;
}

const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's strconv.Quote: printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (GO_ESCAPES[ch] !== undefined) out += GO_ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** Go's time.Duration String() of nanoseconds: `0s`, `1.5s`, `5m0s`, `1h0m0s`, `300ms`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  const n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / size)}${unit}`;
  }
  const h = Math.floor(n / 3600e9);
  const m = Math.floor((n % 3600e9) / 60e9);
  const s = trimFraction((n % 60e9) / 1e9);
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

function trimFraction(v: number): string {
  return v.toFixed(9).replace(/\.?0+$/, '');
}

/** HEALTHCHECK: Go's `%+v` of BuildKit's HealthcheckConfig. */
export function healthcheckHistory(h: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number }): string {
  return (
    `HEALTHCHECK {Test:${goList(h.Test ?? [])} Interval:${goDuration(h.Interval ?? 0)} Timeout:${goDuration(h.Timeout ?? 0)} ` +
    `StartPeriod:${goDuration(h.StartPeriod ?? 0)} StartInterval:${goDuration(h.StartInterval ?? 0)} Retries:${h.Retries ?? 0}}`
  );
}

/** A step's entry, and its layer when it made one (`empty_layer` when not). */
export function addHistory(state: StageState, layer: Layer | undefined, createdBy: string, created: string): void {
  if (layer) state.layers.push(layer);
  state.history.push({ created, created_by: createdBy, comment: 'nbuild.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) });
}

/** History entries of config-only steps: their time is settled when the image is written (settleHistoryTimes). */
const configOnlyEntries = new WeakSet<History>();

/** A config-only step's entry (ENV, LABEL, …): without an epoch its time is settled later. */
export function addConfigHistory(state: StageState, createdBy: string, created: string, timestamp: number | undefined): void {
  addHistory(state, undefined, createdBy, created);
  if (timestamp === undefined) configOnlyEntries.add(state.history[state.history.length - 1]);
}

/**
 * Without an epoch, BuildKit's exporter (exporter/containerimage/writer.go:
 * normalizeLayersAndHistory) gives the history entries of config-only steps, which have no
 * time of their own, the time of the first new layer after them, or of the layer before them
 * once one came; the image's `created` is then the last entry's (patchImageConfig). So a fully
 * cached rebuild writes the same config.
 */
export function settleHistoryTimes(history: History[]): string | undefined {
  const unset = (h: History): boolean => configOnlyEntries.has(h) || h.created === undefined;
  let created: string | undefined;
  let seenUnset = false;
  for (const h of history) {
    if (!unset(h)) {
      created = h.created;
      if (seenUnset) break;
    } else seenUnset = true;
  }
  seenUnset = false;
  for (const h of history) {
    if (!unset(h)) {
      if (seenUnset) created = h.created;
    } else {
      seenUnset = true;
      configOnlyEntries.delete(h);
      if (created === undefined) delete h.created;
      else h.created = created;
    }
  }
  return history.at(-1)?.created;
}

/** A step's and the image's time: SOURCE_DATE_EPOCH (`timestamp`, seconds) when set, else now. */
export function createdTime(timestamp: number | undefined): string {
  return timestamp !== undefined ? isoTime(timestamp * 1000).replace('.000Z', 'Z') : isoTime(Date.now());
}
