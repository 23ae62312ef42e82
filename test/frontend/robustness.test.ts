import test from 'ava';
import { seededRandom } from '../helpers/prng.js';
import { join } from 'node:path';
import { parseAst, parseDockerfile } from '../../src/frontend/dockerfile/index.js';
import { DockerfileError } from '../../src/errors.js';
import { conformanceDir, readText, reportMissing, subdirs } from './conformance.js';

const rng = seededRandom;

const TOKENS = ['\\', '`', '\n', '"', "'", '[', ']', '<<EOF', '<<-', '$', '${', '}', '--', '--mount=', '#', ' ', '\t', 'ONBUILD ', 'FROM ', 'RUN ', '=', ',', '\r', '\u00a0', 'é', '\u0000'];

function mutate(text: string, rand: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (s.length + 1));
    const op = rand();
    if (op < 0.4) s = s.slice(0, at) + TOKENS[Math.floor(rand() * TOKENS.length)] + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 5));
    else {
      const from = Math.floor(rand() * s.length);
      s = s.slice(0, at) + s.slice(from, from + Math.floor(rand() * 40)) + s.slice(at);
    }
  }
  return s;
}

if (!conformanceDir) reportMissing(test, 'parser robustness');
else {
  const dir = conformanceDir;
  test('mutated corpus: a tree or a DockerfileError, never anything else', (t) => {
    t.timeout(180_000); // a hang fails here instead of stalling the run
    const corpus = [
      ...subdirs(join(dir, 'buildkit-parser', 'testfiles')).map((c) => join(dir, 'buildkit-parser', 'testfiles', c, 'Dockerfile')),
      ...subdirs(join(dir, 'real-world')).map((c) => join(dir, 'real-world', c, 'Dockerfile')),
    ].map(readText);
    const rand = rng(20240917);
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const input = mutate(corpus[Math.floor(rand() * corpus.length)], rand);
      try {
        parseDockerfile(input, 'Dockerfile');
        ok++;
      } catch (e) {
        if (!(e instanceof DockerfileError)) t.fail(`mutation ${i} threw ${String(e)}\n${JSON.stringify(input).slice(0, 400)}`);
        rejected++;
      }
    }
    t.is(ok + rejected, 3000);
    t.log(`mutations: ${ok} parsed, ${rejected} rejected with DockerfileError (seed 20240917)`);
  });
}

// The parser itself (parseAst): 10 MB is ~450,000 instructions, past the 100,000 a Dockerfile
// may have (limits.ts), which parseDockerfile refuses after parsing.
test('parse time grows linearly (1 MB vs 10 MB)', (t) => {
  t.timeout(180_000);
  const block = 'RUN apt-get update && \\\n    apt-get install -y curl # c\nCOPY --chown=1:1 a b /c/\nENV A=1 B="x y"\nRUN <<EOF\necho $A\nEOF\n# comment\n\n';
  const make = (bytes: number) => 'FROM scratch\n' + block.repeat(Math.ceil(bytes / block.length));
  const time = (text: string) => {
    const start = process.hrtime.bigint();
    parseAst(text, 'Dockerfile');
    return Number(process.hrtime.bigint() - start);
  };
  const small = make(1 << 20);
  const big = make(10 << 20);
  time(small); // warm up the JIT
  const a = Math.min(time(small), time(small));
  const b = Math.min(time(big), time(big)); // min of two: a GC pause is not the parser's growth
  const ratio = b / a;
  t.log(`1 MB: ${(a / 1e6).toFixed(0)} ms, 10 MB: ${(b / 1e6).toFixed(0)} ms, ratio ${ratio.toFixed(1)} (linear ≈ 10)`);
  t.true(ratio < 25, `ratio ${ratio}`);
});
