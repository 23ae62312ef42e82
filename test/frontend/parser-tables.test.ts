import test from 'ava';
import { join } from 'node:path';
import { parseWords, parseHeredocWord, heredocsFromLine, parseLine } from '../../src/frontend/dockerfile/line-parsers.js';
import { parseAst } from '../../src/frontend/dockerfile/parser.js';
import { chompHeredoc } from '../../src/frontend/dockerfile/heredoc.js';
import { DockerfileError } from '../../src/errors.js';
import { conformanceDir, readJson, reportMissing } from './conformance.js';

interface Tables {
  parseWords: { cases: { input: string; expect: string[] }[] };
  nameVal: { cases: { instruction: string; args: string; expectNodes?: string[]; expect?: string; errorContains?: string }[] };
  jsonArrays: { valid: { input: string; expect: string[] }[]; invalidNonString: string[] };
  heredocWord: { valid: string[]; invalid: string[]; notHeredoc: string[] };
  heredocsFromLine: { cases: { line: string; names: string[] }[] };
  heredocChomp: { input: string; expect: string };
  directives: { cases: { fn: string; input: string; expect: unknown }[] };
}

if (!conformanceDir) reportMissing(test, 'parser tables');
else {
  const tables = readJson<Tables>(join(conformanceDir, 'buildkit-parser', 'transcribed', 'cases.json'));

  test('parseWords, nameVal and JSON arrays', (t) => {
    for (const c of tables.parseWords.cases) t.deepEqual(parseWords(c.input, '\\'), c.expect, c.input);
    for (const c of tables.nameVal.cases) {
      if (c.expect === 'error') t.throws(() => parseLine(`${c.instruction} ${c.args}`, '\\'), { message: new RegExp(c.errorContains ?? '') });
      else t.deepEqual(parseLine(`${c.instruction} ${c.args}`, '\\').args, c.expectNodes);
    }
    for (const c of tables.jsonArrays.valid) {
      const p = parseLine(`CMD ${c.input}`, '\\');
      t.true(p.json, c.input);
      t.deepEqual(p.args, c.expect);
    }
    for (const input of tables.jsonArrays.invalidNonString) t.throws(() => parseLine(`CMD ${input}`, '\\'), undefined, input);
  });

  test('heredoc words, heredocs on a line, chomping', (t) => {
    for (const w of tables.heredocWord.valid) t.is(parseHeredocWord(w)?.name, 'EOF', w);
    for (const w of tables.heredocWord.invalid) t.throws(() => parseHeredocWord(w), undefined, w);
    for (const w of tables.heredocWord.notHeredoc) t.is(parseHeredocWord(w), undefined, w);
    for (const c of tables.heredocsFromLine.cases) t.deepEqual(heredocsFromLine(c.line).map((h) => h.name), c.names, c.line);
    t.is(chompHeredoc(tables.heredocChomp.input), tables.heredocChomp.expect);
  });

  test('directives: the Parse-relevant DirectiveParser cases', (t) => {
    let run = 0;
    for (const c of tables.directives.cases.filter((c) => c.fn === 'DirectiveParser.ParseAll')) {
      const ast = parseAst(c.input + 'FROM x\n', 'Dockerfile');
      t.deepEqual(ast.directives.map((d) => ({ name: d.name, value: d.value })), c.expect);
      run++;
    }
    t.log(`directives: ${run} ParseAll cases run; DetectSyntax/ParseDirective cases (shebang, //, JSON files) skipped: nbuild does not fetch frontends, so it has no DetectSyntax`);
  });
}

test('parser: scanner limit, unterminated heredoc, directive errors, ONBUILD heredoc', (t) => {
  const long = 'FROM image\nLABEL test=' + 'a'.repeat(65536) + '\n';
  t.throws(() => parseAst(long, 'Dockerfile'), { instanceOf: DockerfileError, message: /line greater than max allowed size of 65535/ });
  const e = t.throws(() => parseAst('FROM x\nRUN <<EOF\necho\n', 'Df'), { instanceOf: DockerfileError });
  t.is(e?.location.line, 2);
  t.throws(() => parseAst('# escape=x\nFROM x\n', 'Df'), { message: /invalid escape token/ });
  t.throws(() => parseAst('# syntax=a\n# syntax=b\nFROM x\n', 'Df'), { message: /only one syntax parser directive/ });
  const ast = parseAst('FROM x\nONBUILD RUN <<EOF\nhi\nEOF\n', 'Df');
  t.is(ast.nodes[1].heredocs[0].content, 'hi\n');
  t.is(ast.nodes[1].child?.keyword, 'RUN');
  const bt = parseAst('# escape=`\nFROM x\nRUN a `\n  b\n', 'Df');
  t.is(bt.nodes[1].args[0], 'a   b');
});
