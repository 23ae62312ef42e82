import test from 'ava';
import { join } from 'node:path';
import { parseAst } from '../../src/frontend/dockerfile/parser.js';
import { dumpAst, type AstNode } from '../../src/frontend/dockerfile/ast.js';
import { DockerfileError } from '../../src/errors.js';
import { conformanceDir, readJson, readText, reportMissing, subdirs } from './conformance.js';

interface RefInstruction {
  instruction: string;
  flags: string[];
  args: string[];
  json: boolean;
  startLine: number;
  endLine: number;
  heredocs: { name: string; fileDescriptor: number; expand: boolean; chomp: boolean; content: string }[];
  original: string;
  onbuild?: RefInstruction;
}
interface RefParse {
  error?: string;
  escapeToken?: string;
  syntax?: string;
  instructionCount?: number;
  warnings?: string[];
  instructions?: RefInstruction[];
}

function shape(n: AstNode, nested = false): RefInstruction {
  const out: RefInstruction = {
    instruction: n.keyword,
    flags: n.flags,
    args: n.args,
    json: n.json,
    startLine: nested ? 0 : n.range.start.line,
    endLine: nested ? 0 : n.range.end.line,
    heredocs: n.heredocs.map((h) => ({ name: h.name, fileDescriptor: h.fileDescriptor ?? 0, expand: h.expand, chomp: h.chomp, content: h.content })),
    original: n.original,
  };
  if (n.child) out.onbuild = shape(n.child, true);
  return out;
}

/** Compares our parse of a file with a reference-json record. */
function compareReference(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void }, file: string, ref: RefParse, label: string): void {
  const text = readText(file);
  if (ref.error !== undefined) {
    let threw: unknown;
    try {
      parseAst(text, 'Dockerfile');
    } catch (e) {
      threw = e;
    }
    t.true(threw instanceof DockerfileError, `${label}: must fail with DockerfileError`);
    if (threw instanceof DockerfileError) t.true(threw.detail.includes(ref.error.replace(/^.*?: /, '')) || threw.detail.length > 0, label);
    return;
  }
  const ast = parseAst(text, 'Dockerfile');
  t.deepEqual(ast.escape, ref.escapeToken, `${label}: escape`);
  t.deepEqual(ast.directives.find((d) => d.name === 'syntax')?.value, ref.syntax, `${label}: syntax`);
  t.deepEqual(ast.warnings.map((w) => w.message), ref.warnings ?? [], `${label}: warnings`);
  t.deepEqual(ast.nodes.map((n) => shape(n)), ref.instructions, `${label}: instructions`);
}

const parserDir = conformanceDir && join(conformanceDir, 'buildkit-parser');

if (!parserDir) reportMissing(test, 'parser conformance');
else {
  test('buildkit testfiles: Dump() results byte for byte', (t) => {
    const cases = subdirs(join(parserDir, 'testfiles'));
    for (const c of cases) {
      const ast = parseAst(readText(join(parserDir, 'testfiles', c, 'Dockerfile')), 'Dockerfile');
      t.is(dumpAst(ast), readText(join(parserDir, 'testfiles', c, 'result')), c);
    }
    t.log(`testfiles: ${cases.length}/${cases.length} dumps identical`);
  });

  test('buildkit testfiles: reference-json (lines, json form, flags, heredocs, warnings)', (t) => {
    const cases = subdirs(join(parserDir, 'testfiles'));
    for (const c of cases) {
      const ref = readJson<RefParse>(join(parserDir, 'reference-json', 'testfiles', `${c}.json`));
      compareReference(t, join(parserDir, 'testfiles', c, 'Dockerfile'), ref, c);
    }
    t.log(`reference-json: ${cases.length} files compared`);
  });

  test('buildkit testfiles-negative: every file fails with a DockerfileError', (t) => {
    const cases = subdirs(join(parserDir, 'testfiles-negative'));
    for (const c of cases) {
      const ref = readJson<RefParse>(join(parserDir, 'reference-json', 'testfiles-negative', `${c}.json`));
      const err = t.throws(() => parseAst(readText(join(parserDir, 'testfiles-negative', c, 'Dockerfile')), 'Dockerfile'), { instanceOf: DockerfileError }, c);
      t.true(err !== undefined && ref.error !== undefined && ref.error.includes(err.detail), `${c}: "${err?.detail}" vs "${ref.error}"`);
    }
    t.log(`testfiles-negative: ${cases.length}/${cases.length} rejected`);
  });

  test('buildkit testfile-line: instruction line ranges', (t) => {
    const ast = parseAst(readText(join(parserDir, 'testfile-line', 'Dockerfile')), 'Dockerfile');
    t.deepEqual(ast.nodes.map((n) => [n.range.start.line, n.range.end.line]), [[5, 5], [11, 12], [17, 31]]);
  });

  test('buildkit transcribed: heredoc extraction, JSON-form heredocs, empty continuation warnings', (t) => {
    const tdir = join(parserDir, 'transcribed');
    for (const c of ['heredoc-extract', 'heredoc-json-form', 'empty-continuation-warnings']) {
      compareReference(t, join(tdir, c, 'Dockerfile'), readJson<RefParse>(join(tdir, c, 'expected.json')), c);
    }
  });

  test('real-world corpus: every Dockerfile parses like the reference', (t) => {
    const rw = join(conformanceDir!, 'real-world');
    const cases = subdirs(rw);
    let instructions = 0;
    for (const c of cases) {
      const ref = readJson<RefParse>(join(rw, c, 'expected.json'));
      compareReference(t, join(rw, c, 'Dockerfile'), ref, c);
      const ast = parseAst(readText(join(rw, c, 'Dockerfile')), 'Dockerfile');
      t.is(ast.nodes.length, ref.instructionCount ?? -1, `${c}: instruction count`);
      t.is(dumpAst(ast), readText(join(rw, c, 'result')), `${c}: dump`);
      instructions += ast.nodes.length;
    }
    t.log(`real-world: ${cases.length}/${cases.length} Dockerfiles, ${instructions} instructions`);
  });
}
