// Layer engine benchmark (not a test): nbuild's writer and extractor against the usual
// shell pipelines, interleaved round by round so drift hits every tool alike.
// Usage: node dist/bench/layer/bench.js [--src DIR] [--work DIR] [--rounds N] [--zlib] [--only extract|write]
// Default tree: /usr/share + /usr/bin copied into a tmpfs (about 1 GiB).
// --zlib adds the slow single-stream zlib writers and the extraction of pigz's single-stream blob.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { engineInfo, extractLayer, writeLayer, type Compression } from '../../src/native/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

const work = arg('work', '/dev/shm/nb-bench');
const rounds = Number(arg('rounds', '3'));
const withZlib = process.argv.includes('--zlib');
const only = arg('only', '');
let src = arg('src', '');
if (!src) {
  src = path.join(work, 'src');
  if (!fs.existsSync(src)) {
    fs.mkdirSync(src, { recursive: true });
    execSync(`cp -a /usr/share /usr/bin ${src}/`);
  }
}
const out = path.join(work, 'out');
fs.mkdirSync(out, { recursive: true });

interface Sample { seconds: number; cpu: number; size?: number }
const results = new Map<string, Sample[]>();
function record(name: string, s: Sample) {
  const list = results.get(name) ?? [];
  list.push(s);
  results.set(name, list);
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
// Wall seconds, and CPU seconds of this process plus its finished children (shell pipelines).
let lastCpu = 0;
async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.resourceUsage();
  const children = Number(execSync("awk '{print $16+$17}' /proc/" + process.pid + '/stat').toString()) / 100;
  const cpu = (u.userCPUTime + u.systemCPUTime) / 1e6 + children;
  lastCpu = cpu - prevCpu;
  prevCpu = cpu;
  return [wall, r];
}
let prevCpu = 0;
function sh(cmd: string) {
  execSync(cmd, { stdio: ['ignore', 'ignore', 'inherit'], shell: '/bin/bash' });
}
const fresh = (d: string) => fs.rmSync(d, { recursive: true, force: true });

const tarBytes = Number(execSync(`tar -C ${src} -cf - . | wc -c`, { shell: '/bin/bash' }).toString());
console.log(`load average at the start: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${os.cpus().length} cores`);
const writers: ReadonlyArray<readonly [string, Compression, number, 'zlib' | 'libdeflate']> = [
  ['nbuild gzip -6 (libdeflate members)', 'gzip', 6, 'libdeflate'],
  ['nbuild gzip -1 (libdeflate members)', 'gzip', 1, 'libdeflate'],
  ['nbuild gzip -3 (libdeflate members)', 'gzip', 3, 'libdeflate'],
  ['nbuild gzip -4 (libdeflate members)', 'gzip', 4, 'libdeflate'],
  ['nbuild zstd -3', 'zstd', 3, 'zlib'],
  ...(withZlib ? [['nbuild gzip -6 (zlib, one stream)', 'gzip', 6, 'zlib'], ['nbuild gzip -1 (zlib, one stream)', 'gzip', 1, 'zlib']] as const : []),
];
// Extraction checks the diff_id, as every caller in nbuild does.
const diffIds = new Map<string, string>();

for (let round = 0; round < rounds; round++) {
  for (const [name, compression, level, gzipEngine] of writers) {
    const blob = path.join(out, `nb.${compression}${level}${gzipEngine}`);
    if (only === 'extract' && fs.existsSync(blob) && diffIds.has(blob)) continue;
    const [s, r] = await time(() => writeLayer({ sourceDir: src, outputPath: blob, mode: 'plain', compression, level, gzipEngine }));
    diffIds.set(blob, r.diffId);
    if (only !== 'extract') record(name, { seconds: s, cpu: lastCpu, size: r.size });
  }
  for (const [name, cmd, file] of only === 'extract' ? [] : [
    ['tar | pigz -6 | sha256sum', 'pigz -6', 'peer.gz'],
    ['tar | pigz -1 | sha256sum', 'pigz -1', 'peer1.gz'],
    ['tar | zstd -3 -T0 | sha256sum', 'zstd -q -3 -T0', 'peer.zst'],
  ] as const) {
    const blob = path.join(out, file);
    const [s] = await time(() => sh(`tar -C ${src} -cf - . | ${cmd} | tee ${blob} | sha256sum > /dev/null`));
    record(name, { seconds: s, cpu: lastCpu, size: fs.statSync(blob).size });
  }
  for (const [name, blob, cmd] of only === 'write' ? [] : [
    ['nbuild extract gzip (libdeflate members)', 'nb.gzip6libdeflate', ''], ['tar -xzf (same libdeflate blob)', 'nb.gzip6libdeflate', '-xzf'],
    ...(withZlib ? [['nbuild extract gzip (pigz blob, one stream)', 'peer.gz', ''], ['tar -xzf (pigz blob)', 'peer.gz', '-xzf']] as const : []),
    ['nbuild extract zstd', 'nb.zstd3zlib', ''], ['tar --zstd -xf (same nbuild blob)', 'nb.zstd3zlib', '--zstd -xf'],
  ] as const) {
    const dest = path.join(out, 'x');
    fresh(dest);
    const input = path.join(out, blob);
    const [s] = await time(async () => {
      if (cmd) {
        fs.mkdirSync(dest);
        sh(`tar -C ${dest} ${cmd} ${input}`);
      } else {
        await extractLayer({ inputPath: input, destDir: dest, whiteouts: 'apply', expectedDiffId: diffIds.get(input) });
      }
    });
    record(name, { seconds: s, cpu: lastCpu });
    fresh(dest);
  }
}

const load = (): string => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const info = engineInfo();
console.log(`load average at the end: ${load()}`);
console.log(`tree: ${src}, tar ${(tarBytes / 1e6).toFixed(0)} MB; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); ` +
  `${info.deflate}, zstd ${info.zstd}; work dir ${work}; medians of ${rounds}`);
console.log('| tool | wall s | MB/s of tar | CPU s | blob MB | ratio |');
console.log('|---|---|---|---|---|---|');
for (const [name, samples] of results) {
  const s = median(samples.map((x) => x.seconds));
  const size = samples[0]?.size;
  const blob = size === undefined ? '–' : (size / 1e6).toFixed(1);
  const ratio = size === undefined ? '–' : (size / tarBytes).toFixed(3);
  const cpu = median(samples.map((x) => x.cpu));
  console.log(`| ${name} | ${s.toFixed(2)} | ${(tarBytes / 1e6 / s).toFixed(0)} | ${cpu.toFixed(1)} | ${blob} | ${ratio} |`);
}
