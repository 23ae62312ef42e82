// Dockerfile text → AST, following BuildKit's parser line for line in behaviour:
// parser directives, comments, continuations, empty continuation lines,
// heredocs. See the conformance README §1.5 for every rule reproduced here.
import type { Heredoc } from './types.js';
import type { AstNode, Directive, DockerfileAst, ParserWarning } from './ast.js';
import { errorAt } from './frame.js';
import { heredocsFromLine, LineError, parseLine, trimLeftSpace, type ParsedLine } from './line-parsers.js';

const MAX_LINE_BYTES = 65535;
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const HEREDOC_KEYWORDS = new Set(['run', 'copy', 'add']);

/** Physical lines, read one at a time, with their 1-based numbers. */
class LineReader {
  private readonly raw: string[];
  private index = 0;

  constructor(
    text: string,
    private readonly fail: (detail: string, line: number) => Error,
  ) {
    this.raw = text.split('\n');
    if (this.raw[this.raw.length - 1] === '') this.raw.pop(); // no empty token after a final newline
    if (this.raw.length > 0 && this.raw[0].startsWith('\uFEFF')) this.raw[0] = this.raw[0].slice(1);
  }

  get lineNumber(): number {
    return this.index;
  }
  get lines(): readonly string[] {
    return this.raw;
  }

  /** The next line with its newline (as in the file), or undefined at the end. */
  next(): string | undefined {
    if (this.index >= this.raw.length) return undefined;
    const line = this.raw[this.index++];
    // Go's bufio.Scanner limit: the whole parse fails on an over-long line
    if (line.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(line) > MAX_LINE_BYTES) {
      throw this.fail(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, this.index);
    }
    return this.index < this.raw.length || this.endsWithNewline ? line + '\n' : line;
  }
  endsWithNewline = false;
}

// A loop, not /[\r\n]+$/: the regex was ~20 % of parse time (bench/micro/parse.ts profile).
export const trimNewline = (s: string): string => {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 10 || s.charCodeAt(end - 1) === 13)) end--;
  return end === s.length ? s : s.slice(0, end);
};
const isComment = (line: string): boolean => trimLeftSpace(trimNewline(line)).startsWith('#');

/** Removes a trailing line-continuation escape; returns [line, isEndOfLine]. */
function trimContinuation(line: string, escape: string): [string, boolean] {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  if (end === 0 || line[end - 1] !== escape) return [line, true];
  if (end === 1) return ['', false];
  // an escaped escape (`\\`) at the end is not a continuation
  if (line[end - 2] === escape) return [line, true];
  return [line.slice(0, end - 1), false];
}

class Directives {
  escape: '\\' | '`' = '\\';
  readonly found: Directive[] = [];
  private done = false;

  /** Looks at one processed line while still inside the leading directive block. */
  check(line: string, lineNo: number): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = DIRECTIVE.exec(trimLeftSpace(line.slice(1)));
    const name = m?.[1].toLowerCase();
    if (!m || (name !== 'syntax' && name !== 'escape' && name !== 'check')) {
      this.done = true;
      return;
    }
    if (this.found.some((d) => d.name === name)) throw new LineError(`only one ${name} parser directive can be used`);
    const value = m[2];
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw new LineError(`invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
    }
    this.found.push({ name, value, line: lineNo });
  }
}

/** Parses Dockerfile text into an AST; throws DockerfileError. */
export function parseAst(text: string, file: string): DockerfileAst {
  return new Parser(text, file).parse();
}

class Parser {
  private readonly reader: LineReader;
  private readonly directives = new Directives();
  private readonly nodes: AstNode[] = [];
  private readonly warnings: ParserWarning[] = [];
  private comments: string[] = [];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.reader = new LineReader(text, (detail, line) => errorAt(file, this.reader.lines, detail, line));
    this.reader.endsWithNewline = text.endsWith('\n');
  }

  private fail(detail: string, start: number, end = start): Error {
    return errorAt(this.file, this.reader.lines, detail, start, end);
  }

  /** Runs the directive check, turning its errors into located errors. */
  private processLine(raw: string, stripLeft: boolean): string {
    let line = trimNewline(raw);
    if (stripLeft) line = trimLeftSpace(line);
    try {
      this.directives.check(line, this.reader.lineNumber);
    } catch (e) {
      if (e instanceof LineError) throw this.fail(e.message, this.reader.lineNumber);
      throw e;
    }
    return line.startsWith('#') ? '' : line;
  }

  parse(): DockerfileAst {
    for (let raw = this.reader.next(); raw !== undefined; raw = this.reader.next()) {
      if (isComment(raw)) {
        const text = trimLeftSpace(trimNewline(raw)).slice(1).trim();
        // push, not a copy per line: a file of comment lines must not take O(n²)
        if (text === '') this.comments = [];
        else this.comments.push(text);
      }
      const startLine = this.reader.lineNumber;
      const column = raw.length - trimLeftSpace(raw).length + 1;
      const [first, end] = trimContinuation(this.processLine(raw, true), this.directives.escape);
      if (end && first === '') continue;
      const line = this.readContinuation(first, end, startLine);
      this.addNode(line, startLine, column);
    }
    if (this.nodes.length === 0) throw this.fail('file with no instructions', Math.max(1, this.reader.lineNumber));
    return { escape: this.directives.escape, directives: this.directives.found, nodes: this.nodes, warnings: this.warnings };
  }

  private readContinuation(first: string, isEnd: boolean, startLine: number): string {
    let line = first;
    let emptyContinuation = false;
    while (!isEnd) {
      const raw = this.reader.next();
      if (raw === undefined) break; // a continuation at EOF just ends the instruction
      const processed = this.processLine(raw, false);
      if (isComment(raw)) continue;
      if (trimLeftSpace(processed) === '') {
        emptyContinuation = true;
        continue;
      }
      let piece: string;
      [piece, isEnd] = trimContinuation(processed, this.directives.escape);
      line += piece;
    }
    if (emptyContinuation) {
      this.warnings.push({
        rule: 'NoEmptyContinuation',
        message: `Empty continuation line found in: ${line}`,
        line: Math.max(startLine, this.reader.lineNumber),
      });
    }
    return line;
  }

  private addNode(line: string, startLine: number, column: number): void {
    let parsed: ParsedLine;
    let heredocs: Heredoc[] = [];
    try {
      parsed = parseLine(line, this.directives.escape);
      if (canContainHeredoc(parsed) && line.includes('<<')) heredocs = this.readHeredocs(line, startLine);
    } catch (e) {
      if (e instanceof LineError) throw this.fail(e.message, startLine, this.reader.lineNumber);
      throw e;
    }
    const endLine = this.reader.lineNumber;
    const lastLine = trimNewline(this.reader.lines[endLine - 1] ?? '');
    const range = { start: { line: startLine, column }, end: { line: endLine, column: lastLine.length + 1 } };
    const toNode = (p: ParsedLine, docs: Heredoc[], original: string): AstNode => ({
      keyword: p.keyword,
      flags: p.flags,
      args: p.args,
      json: p.json,
      heredocs: docs,
      range,
      original,
      comments: this.comments,
      ...(p.child ? { child: toNode(p.child, [], '') } : {}),
    });
    const node = toNode(parsed, heredocs, line);
    if (node.child) node.child.original = trimLeftSpace(line).replace(/^\S+[\t\v\f\r ]+/, '');
    this.nodes.push(node);
    this.comments = [];
  }

  /** Reads each announced heredoc's body from the following physical lines. */
  private readHeredocs(line: string, startLine: number): Heredoc[] {
    const docs: Heredoc[] = [];
    for (const doc of heredocsFromLine(line)) {
      let content = '';
      let terminated = false;
      for (let raw = this.reader.next(); raw !== undefined; raw = this.reader.next()) {
        let candidate = trimNewline(raw);
        if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
        if (candidate === doc.name) {
          terminated = true;
          break;
        }
        content += raw;
      }
      if (!terminated) throw this.fail('unterminated heredoc', startLine, this.reader.lineNumber);
      docs.push({ ...doc, content });
    }
    return docs;
  }
}

function canContainHeredoc(p: ParsedLine): boolean {
  const target = p.keyword.toLowerCase() === 'onbuild' && p.child ? p.child : p;
  return HEREDOC_KEYWORDS.has(target.keyword.toLowerCase()) && !target.json;
}
