// Shapes one logical instruction line into keyword, flags and argument nodes,
// per instruction, following BuildKit's parser quirks (conformance README §1.4).
import type { Heredoc } from './types.js';
import { isSpace, processWords, ShellExpansionError } from './shell.js';

/** A syntax error inside one line; the parser adds the location. */
export class LineError extends Error {}

export interface ParsedLine {
  keyword: string;
  flags: string[];
  args: string[];
  json: boolean;
  child?: ParsedLine;
}

const WS = /[\t\v\f\r ]+/;

export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i])) i++;
  return s.slice(i);
}
function trimRightSpace(s: string): string {
  let i = s.length;
  while (i > 0 && isSpace(s[i - 1])) i--;
  return s.slice(0, i);
}

/** Splits on runs of [\t\v\f\r ] (never on newlines or Unicode spaces). */
function splitWs(s: string): string[] {
  return s.split(WS);
}

export function parseLine(line: string, escape: string): ParsedLine {
  const trimmed = trimSpace(line);
  const m = WS.exec(trimmed);
  const keyword = m ? trimmed.slice(0, m.index) : trimmed;
  let flags: string[] = [];
  let rest = '';
  if (m) [rest, flags] = extractFlags(trimmed.slice(m.index + m[0].length));
  rest = trimSpace(rest);
  const shaped = shapeArgs(keyword.toLowerCase(), rest, escape);
  return { keyword, flags, ...shaped };
}

type Shaped = { args: string[]; json: boolean; child?: ParsedLine };

function shapeArgs(kw: string, rest: string, escape: string): Shaped {
  switch (kw) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      return maybeJson(rest);
    case 'add':
    case 'copy':
    case 'volume':
      return maybeJsonToList(rest);
    case 'from':
    case 'expose':
      return { args: rest === '' ? [] : splitWs(rest), json: false };
    case 'env':
    case 'label':
      return { args: nameVal(rest, kw.toUpperCase(), escape), json: false };
    case 'arg':
      return { args: parseWords(rest, escape), json: false };
    case 'maintainer':
    case 'user':
    case 'workdir':
    case 'stopsignal':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'healthcheck':
      return healthcheck(rest);
    case 'onbuild':
      return rest === '' ? { args: [], json: false } : { args: [], json: false, child: parseLine(rest, escape) };
    default:
      return { args: [''], json: false }; // unknown instructions are the builder's business
  }
}

/**
 * Takes the leading `--flag` words off `line`. Quotes inside a flag word are
 * removed and `\` escapes the next character; a bare `--` ends the flags.
 */
export function extractFlags(line: string): [string, string[]] {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (pos >= line.length) return ['', flags];
    if (!line.startsWith('--', pos)) return [line.slice(pos), flags];
    let word = '';
    let quote = '';
    let blankOk = false;
    for (; pos < line.length; pos++) {
      let ch = line[pos];
      if (quote === '' && isSpace(ch)) break;
      if (quote === '' && (ch === "'" || ch === '"')) {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (quote !== '' && ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) {
          quote = '';
          continue; // a trailing backslash is dropped
        }
        ch = line[++pos];
      }
      word += ch;
    }
    if (word === '--') return [pos >= line.length ? '' : line.slice(pos), flags];
    if (blankOk || word.length > 0) flags.push(word);
  }
}

/**
 * The quote-aware splitter of ARG/ENV/LABEL: splits on whitespace outside
 * quotes, keeping quotes and escape pairs in the words.
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (quote === '') {
      if (isSpace(ch)) {
        if (inWord && (blankOk || word.length > 0)) words.push(word);
        word = '';
        inWord = false;
        blankOk = false;
        continue;
      }
      inWord = true;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escape) {
        if (i + 1 === chars.length) continue; // an escape at the very end is dropped
        word += ch + chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      word += chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

function nameVal(rest: string, key: string, escape: string): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    // legacy `ENV KEY value with spaces`
    const m = WS.exec(rest);
    if (!m) throw new LineError(`${key} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const word of words) {
    const i = word.indexOf('=');
    if (i < 0) throw new LineError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    out.push(word.slice(0, i), word.slice(i + 1), '=');
  }
  return out;
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Decodes a JSON array of strings, or returns undefined when `rest` is no JSON array. */
function parseJson(rest: string): string[] | undefined {
  const text = trimLeftSpace(rest);
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const items: unknown[] = value;
  if (!items.every((v): v is string => typeof v === 'string')) throw new LineError(NOT_STRINGS);
  return items as string[];
}

function maybeJson(rest: string): Shaped {
  if (rest === '') return { args: [], json: false };
  const arr = parseJson(rest);
  return arr ? { args: arr, json: true } : { args: [rest], json: false };
}

function maybeJsonToList(rest: string): Shaped {
  const arr = parseJson(rest);
  if (arr) return { args: arr, json: true };
  return { args: rest === '' ? [] : splitWs(rest), json: false };
}

function healthcheck(rest: string): Shaped {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest[sep])) sep++;
  if (sep === 0) return { args: [], json: false };
  let next = sep;
  while (next < rest.length && isSpace(rest[next])) next++;
  const cmd = maybeJson(rest.slice(next));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

const HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const noEnv = (): undefined => undefined;

/**
 * Parses one heredoc word (`<<EOF`, `3<<-'EOF'`); undefined when it is none.
 * Quoting any part of the delimiter turns expansion off.
 */
export function parseHeredocWord(src: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC.exec(src);
  if (!m || m[3] === '') return undefined;
  const rest = m[3];
  try {
    const words = processWords(rest, noEnv, '\\', { skipUnsetEnv: true });
    if (words.length !== 1) return undefined;
    const raw = processWords(rest, noEnv, '\\', { skipUnsetEnv: true, rawQuotes: true });
    const quotes = (s: string): number => s.replace(/[^'"]/g, '').length;
    return {
      name: words[0],
      expand: quotes(words[0]) === quotes(raw[0] ?? ''),
      chomp: m[2] === '-',
      fileDescriptor: m[1] === '' ? 0 : Number(m[1]),
    };
  } catch (e) {
    if (e instanceof ShellExpansionError) throw new LineError(e.message);
    throw e;
  }
}

/** The heredocs announced on an instruction line, in order. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = processWords(line, noEnv, '\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true, heredocWords: true });
  } catch {
    return []; // BuildKit ignores a line it cannot lex here
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const word of words) {
    const doc = parseHeredocWord(word);
    if (doc) docs.push(doc);
  }
  return docs;
}
