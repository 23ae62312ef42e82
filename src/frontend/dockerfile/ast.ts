// The untyped syntax tree the parser produces: one node per instruction, with
// arguments shaped per instruction the way BuildKit's parser shapes them
// (values raw, quotes kept; only JSON arrays are decoded).
import type { Heredoc, SourceRange } from './types.js';

export interface AstNode {
  /** The keyword as written (`from`, `FROM`, `From`). */
  keyword: string;
  /** Leading `--flag` words, quote characters removed. */
  flags: string[];
  /**
   * Argument nodes (see conformance README §1.4): for ENV/LABEL flattened
   * (key, value, separator) triples; for an unknown instruction one empty string.
   */
  args: string[];
  /** True when the arguments came from a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  range: SourceRange;
  /** The logical line: continuations joined, comments dropped. */
  original: string;
  /** `#` comment lines right before the instruction. */
  comments: string[];
  /** ONBUILD's trigger instruction (its range is the ONBUILD's). */
  child?: AstNode;
}

export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface ParserWarning {
  rule: string;
  message: string;
  line: number;
}

export interface DockerfileAst {
  escape: '\\' | '`';
  directives: Directive[];
  nodes: AstNode[];
  warnings: ParserWarning[];
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const namedEscapes: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (printable.test(ch)) out += ch;
    else if (namedEscapes[ch] !== undefined) out += namedEscapes[ch];
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** One node as BuildKit's Node.Dump prints it (without the outer parentheses). */
export function dumpNode(node: AstNode): string {
  let s = node.keyword.toLowerCase();
  if (node.flags.length > 0) s += ' [' + node.flags.map(goQuote).join(' ') + ']';
  if (node.child) s += ' (' + dumpNode(node.child) + ')';
  for (const arg of node.args) s += ' ' + goQuote(arg);
  return s.trim();
}

/** The whole tree in the format of BuildKit's `testfiles/*\/result` files. */
export function dumpAst(ast: DockerfileAst): string {
  return ast.nodes.map((n) => '(' + dumpNode(n) + ')\n').join('');
}
