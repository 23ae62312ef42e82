// Micro-benchmark: nbuild's Dockerfile parser (parseDockerfile = AST + typing + checks) over real
// Dockerfiles. Default corpus: bench/micro/dockerfiles (copied from the conformance corpus, see
// SOURCES.tsv there); or give files/folders as arguments.
//   node dist/bench/micro/parse.js [--iterations N] [FILE|DIR ...]
// Prints: first parse of each file (cold JIT), then steady-state MB/s over the whole corpus and the
// per-file median / p90 / max in microseconds. Files the parser rejects are listed and skipped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseDockerfile } from '../../src/frontend/dockerfile/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let iterations = 200;
const inputs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--iterations') iterations = Number(args[++i]);
  else inputs.push(args[i] as string);
}
if (inputs.length === 0) inputs.push(path.resolve(here, '../../../bench/micro/dockerfiles'));

function collect(p: string, out: string[]): void {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) collect(path.join(p, e), out);
  } else if (/Dockerfile|Containerfile|\.dockerfile$/i.test(path.basename(p))) out.push(p);
}
const files: string[] = [];
for (const p of inputs) collect(p, files);

const corpus: { file: string; text: string; bytes: number }[] = [];
const rejected: string[] = [];
let coldTotal = 0;
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const t0 = performance.now();
  try {
    parseDockerfile(text, path.basename(file));
  } catch (e) {
    rejected.push(`${path.basename(file)}: ${(e as Error).message.split('\n')[0]}`);
    continue;
  }
  coldTotal += performance.now() - t0;
  corpus.push({ file, text, bytes: Buffer.byteLength(text) });
}
const totalBytes = corpus.reduce((a, c) => a + c.bytes, 0);

// warm-up, then timed passes over the corpus; per-file times from the timed passes
for (let i = 0; i < 20; i++) for (const c of corpus) parseDockerfile(c.text, c.file);
const perFile = corpus.map(() => [] as number[]);
const t0 = performance.now();
for (let i = 0; i < iterations; i++) {
  corpus.forEach((c, k) => {
    const s = performance.now();
    parseDockerfile(c.text, c.file);
    (perFile[k] as number[]).push(performance.now() - s);
  });
}
const elapsed = (performance.now() - t0) / 1000;
const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] as number; };
const med = perFile.map(median).sort((a, b) => a - b);
const q = (p: number): number => (med[Math.min(med.length - 1, Math.floor(p * med.length))] as number) * 1000;
const largest = corpus.reduce((a, c) => (c.bytes > a.bytes ? c : a));
const largestIdx = corpus.indexOf(largest);
console.log(`files: ${corpus.length} parsed (${rejected.length} rejected), ${(totalBytes / 1024).toFixed(1)} KiB, ${iterations} passes`);
console.log(`cold (first parse of each file, JIT cold): ${coldTotal.toFixed(1)} ms in all, ${(totalBytes / 1e6 / (coldTotal / 1000)).toFixed(2)} MB/s`);
console.log(`steady state: ${((totalBytes * iterations) / 1e6 / elapsed).toFixed(2)} MB/s, ${((elapsed * 1e6) / (iterations * corpus.length)).toFixed(1)} us per file on average`);
console.log(`per file (median of passes): median ${q(0.5).toFixed(1)} us, p90 ${q(0.9).toFixed(1)} us, max ${q(1).toFixed(1)} us`);
console.log(`largest: ${path.basename(largest.file)} (${(largest.bytes / 1024).toFixed(1)} KiB): ${(median(perFile[largestIdx] as number[]) * 1000).toFixed(1)} us, ${(largest.bytes / 1e6 / (median(perFile[largestIdx] as number[]) / 1000)).toFixed(2)} MB/s`);
for (const r of rejected) console.log(`rejected: ${r}`);
