// The Dockerfile shell lexer: quote removal, escapes, `$VAR` expansion and word
// splitting, with BuildKit's semantics (frontend/dockerfile/shell). It is not a
// shell: no command substitution, no globbing, no arithmetic.
import { NbuildError } from '../../errors.js';
import { trimPrefix, trimSuffix, replacePattern } from './shell-pattern.js';
import { LimitError, MAX_WORD_LENGTH, WordTooLongError } from './limits.js';

export type EnvLookup = (name: string) => string | undefined;
export type EscapeToken = '\\' | '`';

export interface ShellOptions {
  /** Keep quote characters in the output (quotes still group words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`). */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /**
   * Keep whitespace right after `<<` inside the word (`<<  EOF` is one word), the
   * way BuildKit splits an instruction line to find its heredocs.
   */
  heredocWords?: boolean;
}

export interface ProcessResult {
  /** The word after expansion and quote removal, whitespace kept. */
  result: string;
  /** The same, split on unquoted whitespace. */
  words: string[];
  /** Names looked up and found (even when empty). */
  matched: Set<string>;
  /** Names looked up and not set. */
  unmatched: Set<string>;
}

/** A malformed word or a `${V?msg}` failure; expand.ts gives it a location. */
export class ShellExpansionError extends NbuildError {
  readonly detail: string;
  /** The word outgrew nbuild's limit (limits.ts), as opposed to a syntax or `${V:?}` error. */
  readonly limit: boolean;
  constructor(source: string, detail: string, limit = false) {
    super(limit ? 'LIMIT' : 'SHELL_EXPANSION', `failed to process ${JSON.stringify(source)}: ${detail}`);
    this.detail = detail;
    this.limit = limit;
  }
}

class InnerError extends Error {
  constructor(
    message: string,
    readonly limit = false,
  ) {
    super(message);
  }
}

/** Stops a word that outgrows MAX_WORD_LENGTH while it grows, not after (`${A}${A}…` bombs). */
function bounded(s: string): string {
  if (s.length > MAX_WORD_LENGTH) throw new InnerError(new WordTooLongError().message, true);
  return s;
}

const EOF = '';

/**
 * \p{White_Space} spelled out for patterns without the `u` flag: with a \p class V8 compiles a
 * pattern in ~0.7 ms against ~15 µs without (once per process; every build met the word-splitting
 * one at its first `$` outside quotes). No white space is outside the BMP, so the class holds for
 * text with surrogate pairs too.
 */
const WHITE_SPACE = '\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ONE_SPACE = new RegExp(`^[${WHITE_SPACE}]$`);
const SPACE_OR_WORD_RUNS = new RegExp(`([${WHITE_SPACE}]+)|[^${WHITE_SPACE}]+`, 'g');
const HEREDOC_OPENER_END = new RegExp(`<<[${WHITE_SPACE}]*$`);

// ASCII first: these run once per character of every expanded word (the regexes were most of
// the time of a build of 80,000 LABELs).
export function isSpace(ch: string): boolean {
  if (ch === EOF) return false;
  const c = ch.charCodeAt(0);
  if (c < 0x80) return c === 32 || (c >= 9 && c <= 13);
  return ONE_SPACE.test(ch);
}
const isLetter = (ch: string): boolean => {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return /^\p{L}$/u.test(ch);
};
const isDigit = (ch: string): boolean => {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return c >= 48 && c <= 57;
  return /^\p{Nd}$/u.test(ch);
};
const isSpecialParam = (ch: string): boolean => '@*#?-$!0'.includes(ch) && ch !== EOF;

/** Splits text into words as characters arrive (Go's wordsStruct). */
class Words {
  word = '';
  words: string[] = [];
  inWord = false;
  constructor(private readonly heredoc: boolean) {}

  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      // `<<  EOF`: whitespace right after `<<` stays in the heredoc word
      if (this.heredoc && HEREDOC_OPENER_END.test(this.word)) this.word += ch;
      else if (this.word.length !== 0) this.flush();
    } else if (!isSpace(ch)) {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.word += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    if (this.heredoc) {
      for (const ch of s) this.addChar(ch);
      return;
    }
    // Whole runs at a time, as addChar would take them one by one: an expanded value may be long.
    for (const m of s.matchAll(SPACE_OR_WORD_RUNS)) {
      if (m[1] === undefined) this.addRawString(m[0]);
      else if (this.inWord && this.word.length !== 0) this.flush();
    }
  }
  addRawString(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  private flush(): void {
    this.words.push(this.word);
    this.word = '';
    this.inWord = false;
  }
  get(): string[] {
    if (this.word.length > 0) this.flush();
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: EnvLookup,
    private readonly escape: string,
    private readonly opts: ShellOptions,
  ) {
    this.chars = Array.from(word);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** Reads up to `stop` (consumed) or the end when `stop` is EOF. */
  processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.scan(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private scan(stop: string): { result: string; words: string[] } {
    let result = '';
    const words = new Words(this.opts.heredocWords ?? false);
    const quotes = !this.opts.skipProcessQuotes;
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.get() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result = bounded(result + tmp);
        words.addString(tmp);
      } else if (quotes && (ch === "'" || ch === '"')) {
        const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result = bounded(result + tmp);
        words.addRawString(tmp);
      } else {
        let c = this.next();
        if (c === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          c = this.next();
          if (c === EOF) break; // a trailing escape is dropped
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stop !== EOF) throw new InnerError(`unexpected end of statement while looking for matching ${stop}`);
    return { result: bounded(result), words: words.get() };
  }

  private processSingleQuote(): string {
    const raw = this.opts.rawQuotes ?? false;
    let result = raw ? this.next() : (this.next(), '');
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new InnerError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const raw = this.opts.rawQuotes ?? false;
    let result = raw ? this.next() : (this.next(), '');
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new InnerError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        return raw ? result + '"' : result;
      }
      if (p === '$') {
        result = bounded(result + this.processDollar());
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue; // ignore an escape at the end of the word
        // Only ", $ and the escape itself can be escaped; others stay as written.
        if (after === '"' || after === '$' || after === this.escape) ch = this.next();
      }
      result += ch;
    }
  }

  private lookup(name: string): string | undefined {
    const value = this.env(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && isDigit(ch)) {
        // positional parameters take every following digit ($999aaa → $999)
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new InnerError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new InnerError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let modifier = ch;
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch;
    } else if (!'+-?#%'.includes(ch) || ch === EOF) {
      throw new InnerError(`unsupported modifier (${modifier}) in substitution`);
    }
    return this.processModifier(name, ch, modifier, nullIsUnset);
  }

  private readUntil(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (e) {
      if (e instanceof InnerError && this.peek() === EOF) throw new InnerError(missing);
      throw e;
    }
  }

  private processModifier(name: string, op: string, modifier: string, nullIsUnset: boolean): string {
    // Patterns (# and %) keep their escapes so that \* stays a literal star.
    let word = this.readUntil('}', op === '#' || op === '%', "syntax error: missing '}'");
    const value = this.lookup(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${modifier}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return empty ? word : (value ?? '');
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new InnerError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new InnerError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        if (nullIsUnset) throw new InnerError(`unsupported modifier (${modifier}) in substitution`);
        const greedy = word.startsWith(op);
        if (greedy) word = word.slice(1);
        const trim = op === '%' ? trimSuffix : trimPrefix;
        return this.patternOp(word, () => trim(word, value ?? '', greedy));
      }
      default:
        throw new InnerError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.readUntil('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.readUntil('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}/${pattern}/${replacement}}`;
    return this.patternOp(pattern, () => replacePattern(pattern, value ?? '', replacement, all, MAX_WORD_LENGTH));
  }

  private patternOp(pattern: string, fn: () => string): string {
    try {
      return fn();
    } catch (e) {
      if (e instanceof LimitError) throw new InnerError(e.message, true);
      const why = e instanceof Error ? e.message : String(e);
      throw new InnerError(`invalid pattern (${pattern}) in substitution: ${why}`);
    }
  }
}

/** Expands `word` and reports which variables it referenced. */
export function processWordWithMatches(
  word: string,
  env: EnvLookup,
  escape: EscapeToken = '\\',
  opts: ShellOptions = {},
): ProcessResult {
  const lexer = new Lexer(word, env, escape, opts);
  try {
    const { result, words } = lexer.processStopOn(EOF, opts.rawEscapes ?? false);
    return { result, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (e) {
    if (e instanceof InnerError) throw new ShellExpansionError(word, e.message, e.limit);
    throw e;
  }
}

/** Expands `word` into one string (quotes removed, whitespace kept). */
export function processWord(word: string, env: EnvLookup, escape: EscapeToken = '\\', opts: ShellOptions = {}): string {
  return processWordWithMatches(word, env, escape, opts).result;
}

/** Expands `word` and splits it into words on unquoted whitespace. */
export function processWords(word: string, env: EnvLookup, escape: EscapeToken = '\\', opts: ShellOptions = {}): string[] {
  return processWordWithMatches(word, env, escape, opts).words;
}

/** An env lookup over `KEY=VALUE` strings; later definitions win, `KEY` alone is set but empty. */
export function envFromList(list: readonly string[]): EnvLookup {
  const map = new Map<string, string>();
  for (const entry of list) {
    const i = entry.indexOf('=');
    if (i < 0) map.set(entry, '');
    else map.set(entry.slice(0, i), entry.slice(i + 1));
  }
  return (name) => map.get(name);
}
