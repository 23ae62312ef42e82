// Micro-benchmark: where a no-op rebuild's time goes (issue 9; default case: copy-many).
//   node dist/bench/micro/noop-split.js --nbuild BIN --ctx DIR --dockerfile FILE [--tag T] [--runs N] [--profile-dir DIR]
// Run it as the unprivileged user with NBUILD_ROOT set, after one build of the case (so every step hits).
// Wall-clock split per run, from `--progress json` event timestamps (`time`, ms since the epoch):
//   start-up  spawn -> first event: Node start-up of the outer CLI, the user-namespace re-exec, Node
//             start-up + module loading + argument parsing of the inner CLI, Dockerfile parse + plan,
//             store/context open, stat-cache load
//   steps     first event -> last step-done: per step; a cached COPY = context check (walk + stat
//             cache) + cache lookup
//   finish    last step-done -> exit: stat-cache save, image/tag write, outputs, process exit
// plus `node -e 0` (bare Node start-up) for reference, and, with --profile-dir, one extra run under
// `node --cpu-prof` whose samples are put into buckets by the functions on the stack.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const opt = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) opt.set((argv[i] as string).replace(/^--/, ''), argv[i + 1] as string);
const nbuild = opt.get('nbuild') ?? 'nbuild';
const ctx = opt.get('ctx') ?? '.';
const dockerfile = opt.get('dockerfile') ?? path.join(ctx, 'Dockerfile');
const tag = opt.get('tag') ?? 'localhost/bench-noop:latest';
const runs = Number(opt.get('runs') ?? 5);
const profileDir = opt.get('profile-dir');

interface Ev { type: string; id?: number; text?: string; cached?: boolean; seconds?: number; time: number }

function runOnce(nodeArgs: string[] = []): Promise<{ wall: number; startup: number; steps: { text: string; ms: number; cached: boolean }[]; finish: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const p0 = performance.now();
    const args = ['build', '--progress', 'json', '--network', 'host', '-f', dockerfile, '-t', tag, ctx];
    // bin/nbuild is a shell script: Node's own flags go through NBUILD_NODE_ARGS.
    const env = nodeArgs.length ? { ...process.env, NBUILD_NODE_ARGS: nodeArgs.join(' ') } : process.env;
    const child = spawn(nbuild, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let buf = '';
    child.stderr.on('data', (d: Buffer) => (buf += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = performance.now() - p0;
      const tEnd = t0 + wall;
      if (code !== 0) return reject(new Error(`nbuild exited ${code}: ${buf}`));
      const evs: Ev[] = buf.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Ev);
      if (evs.length === 0) return reject(new Error('no progress events (does this nbuild have --progress json with time?)'));
      const starts = new Map<number, Ev>();
      const steps: { text: string; ms: number; cached: boolean }[] = [];
      for (const e of evs) {
        if (e.type === 'step-start') starts.set(e.id as number, e);
        if (e.type === 'step-done') {
          const s = starts.get(e.id as number);
          steps.push({ text: (s?.text ?? `step ${e.id}`).slice(0, 40), ms: e.time - (s?.time ?? e.time), cached: e.cached === true });
        }
      }
      const first = (evs[0] as Ev).time;
      const lastDone = evs.filter((e) => e.type === 'step-done').map((e) => e.time).pop() ?? first;
      resolve({ wall, startup: first - t0, steps, finish: tEnd - lastDone });
    });
  });
}

const median = (v: number[]): number => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2; };

const bare: number[] = [];
for (let i = 0; i < 5; i++) { const s = performance.now(); spawnSync(process.execPath, ['-e', '0']); bare.push(performance.now() - s); }
await runOnce(); // make sure everything is cached
const results = [];
for (let i = 0; i < runs; i++) results.push(await runOnce());
const f = (v: number): string => v.toFixed(0).padStart(6);
console.log(`no-op rebuild of ${ctx} (${runs} runs, medians in ms; load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
console.log(`${f(median(bare))}  bare Node start-up (node -e 0)`);
console.log(`${f(median(results.map((r) => r.startup)))}  start-up to first event (launcher + user namespace, Node, bundle, CLI, parse, plan, store + context open, stat-cache load)`);
const nSteps = (results[0] as (typeof results)[number]).steps.length;
for (let k = 0; k < nSteps; k++) {
  const s = (results[0] as (typeof results)[number]).steps[k] as { text: string; cached: boolean };
  console.log(`${f(median(results.map((r) => (r.steps[k] as { ms: number }).ms)))}  step ${k + 1}${s.cached ? ' (cached)' : ''}: ${s.text}`);
}
console.log(`${f(median(results.map((r) => r.finish)))}  finish (stat-cache save, image + tag write, exit)`);
console.log(`${f(median(results.map((r) => r.wall)))}  wall in all (min ${Math.min(...results.map((r) => r.wall)).toFixed(0)}, max ${Math.max(...results.map((r) => r.wall)).toFixed(0)})`);

if (profileDir) {
  fs.mkdirSync(profileDir, { recursive: true });
  for (const f0 of fs.readdirSync(profileDir)) if (f0.endsWith('.cpuprofile')) fs.rmSync(path.join(profileDir, f0));
  await runOnce(['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval', '250']);
  // the inner (user-namespace) process is the larger profile
  const files = fs.readdirSync(profileDir).filter((x) => x.endsWith('.cpuprofile')).map((x) => path.join(profileDir, x));
  for (const file of files) console.log(`\nCPU profile ${path.basename(file)}:\n${bucketProfile(file)}`);
}

interface ProfNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
function bucketProfile(file: string): string {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // first matching rule from the leaf up wins
  const rules: [string, (fn: string, url: string) => boolean][] = [
    // by function name too: in the bundle every url is dist/nbuild.cjs
    ['context check (walk + stat cache)', (fn, url) => /content-hash|context\/(context|tree)/.test(url) || /^(contextSourcesDigest|walkContextSources|listContextTree|listLevel|listDirs|walkNode|childrenOf|treeDigest|readShard)$/.test(fn)],
    ['export / image write', (fn, url) => /export\/|writeImage|store\.js/.test(url) && /write|tag|save|Output/i.test(fn)],
    ['cache lookup + executor', (fn, url) => /executor\/|store\//.test(url)],
    ['Dockerfile parse + plan', (fn, url) => /frontend\/|planner\//.test(url)],
    ['CLI (yargs)', (_fn, url) => /node_modules\/(yargs|cliui|string-width|wrap-ansi|y18n)/.test(url)],
    ['module loading (ESM)', (_fn, url) => /internal\/modules\//.test(url)],
    ['user-namespace re-exec / wait', (_fn, url) => /sandbox\/userns/.test(url)],
  ];
  const buckets = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    let id: number | undefined = p.samples[i];
    const leaf = byId.get(id as number) as ProfNode;
    let name = leaf.callFrame.functionName === '(idle)' ? 'idle (I/O, child processes)' : leaf.callFrame.functionName === '(garbage collector)' ? 'garbage collection' : '';
    while (!name && id !== undefined) {
      const n = byId.get(id) as ProfNode;
      for (const [b, test] of rules) if (test(n.callFrame.functionName, n.callFrame.url)) { name = b; break; }
      id = parent.get(id);
    }
    name ||= 'other (Node internals, program)';
    buckets.set(name, (buckets.get(name) ?? 0) + dt);
  }
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  return [...buckets].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v.toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(0).padStart(3)}%  ${k}`).join('\n') + `\n${total.toFixed(0).padStart(6)} ms in all`;
}
