// buildah's docker-vs-buildah conformance cases, built with nbuild on the
// busybox base. Upstream compares against images Docker built; we have no
// Docker, so we assert what the data states: success or failure, the line a
// failure starts at and its message, the RUN output regexes (mostly `ls` of
// what a COPY produced) and a well-formed image whose layers apply cleanly.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir } from '../helpers/nbuild-cli.js';
import { listLayer, openOciArchive } from '../helpers/oci.js';
import { flattenLayers } from '../helpers/tar-tree.js';
import { conformanceRoot, dockerfileText, goRegExp, loadCases, skipReason, type BuildahCase } from './buildah-cases.js';
import { prepareContext } from './buildah-context.js';
import { KNOWN_GAPS } from './buildah-known-gaps.js';
import { inCi } from '../helpers/ci.js';

const buildahDir = path.join(conformanceRoot(), 'buildah');
const CONCURRENCY = 2;

type Outcome = 'pass' | 'fail' | 'skip';
const totals: Record<Outcome, number> = { pass: 0, fail: 0, skip: 0 };

function registerCases(): void {
  const data = loadCases(buildahDir);
  let store: Promise<string> | undefined;
  // One store for every case, with busybox under the names the Dockerfiles use.
  const sharedStore = (): Promise<string> =>
    (store ??= storeWithBusybox().then(async (root) => {
      for (const name of ['mirror.gcr.io/busybox:latest']) {
        const r = await nbuild(['--root', root, 'tag', 'busybox:latest', name]);
        if (r.code !== 0) throw new Error(`tag ${name}: ${r.stderr}`);
      }
      return root;
    }));
  const slots = new Semaphore(CONCURRENCY);
  let remaining = data.cases.length;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const settle = (o: Outcome): void => {
    totals[o]++;
    if (--remaining === 0) allDone();
  };

  for (const c of data.cases) {
    const text = dockerfileText(buildahDir, c);
    const title = `#${c.index} ${c.name}`;
    const reason = skipReason(c, text);
    if (reason) {
      test.skip(`${title} — skipped: ${reason}`, () => undefined);
      settle('skip');
      continue;
    }
    const gap = KNOWN_GAPS.get(c.index);
    const register = gap ? test.failing : test;
    register(gap ? `${title} — known nbuild gap: ${gap}` : title, async (t) => {
      t.timeout(5 * 60_000);
      let ok = false;
      try {
        const problems = await slots.run(async () => runCase(c, text, await sharedStore(), data.testDateUnix));
        for (const p of problems.log) t.log(p);
        ok = problems.errors.length === 0;
        if (!ok) t.fail(problems.errors.join('\n'));
        else t.pass();
      } finally {
        settle(ok ? 'pass' : 'fail');
      }
    });
  }

  test('buildah conformance totals', async (t) => {
    t.timeout(10 * 60_000);
    await finished;
    t.log(`pass ${totals.pass}, fail ${totals.fail}, skip ${totals.skip} of ${data.cases.length} (known gaps: ${KNOWN_GAPS.size})`);
    t.pass();
  });
}

interface CaseReport {
  errors: string[];
  log: string[];
}

async function runCase(c: BuildahCase, text: string, root: string, testDate: number): Promise<CaseReport> {
  const work = tempDir(`buildah-${c.index}`);
  try {
    const ctx = prepareContext(buildahDir, c, text, path.join(work, 'ctx'), testDate);
    const out = path.join(work, 'image.tar');
    const buildArgs = Object.entries(c.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    const r = await nbuild(['--root', root, 'build', '--progress', 'plain', '-f', ctx.dockerfile, ...buildArgs, '-o', `type=oci,dest=${out}`, ctx.contextDir]);
    const output = r.stdout + r.stderr;
    const tail = output.split('\n').slice(-15).join('\n');
    return c.expect === 'failure' ? checkFailure(c, r.code, output, tail) : checkSuccess(c, r.code, output, tail, out);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function checkFailure(c: BuildahCase, code: number, output: string, tail: string): CaseReport {
  const errors: string[] = [];
  if (code === 0) return { errors: ['expected the build to fail, it succeeded'], log: [] };
  if (code !== 1) errors.push(`a failed build exits 1, got ${code}`);
  if (/\n\s+at .*\(.*\.js:\d+:\d+\)/.test(output)) errors.push('the error came with a stack trace');
  if (c.shouldFailAt !== undefined) {
    // nbuild names FILE:LINE; the line is where the failing instruction starts.
    const lines = [...output.matchAll(/Dockerfile[^\s:]*:(\d+)/g)].map((m) => Number(m[1]));
    if (!lines.includes(c.shouldFailAt)) errors.push(`expected the failure at line ${c.shouldFailAt}, the error names ${lines.length ? lines.join(', ') : 'no line'}`);
  }
  if (c.failureRegex && !goRegExp(c.failureRegex, 'i').test(output.replace(/\s+/g, ' '))) errors.push(`error text does not match /${c.failureRegex}/`);
  if (errors.length) errors.push(`output:\n${tail}`);
  return { errors, log: [`failed as expected: ${tail.split('\n').filter(Boolean).slice(-1)[0] ?? ''}`] };
}

function checkSuccess(c: BuildahCase, code: number, output: string, tail: string, out: string): CaseReport {
  if (code !== 0) return { errors: [`build failed (exit ${code}):\n${tail}`], log: [] };
  const errors: string[] = [];
  // Upstream matches these against buildah's RUN output; ours is in the progress log.
  if (c.buildahRegex && !goRegExp(c.buildahRegex).test(output)) errors.push(`RUN output does not match /${c.buildahRegex}/`);
  if (c.buildahErrRegex && !goRegExp(c.buildahErrRegex).test(output)) errors.push(`RUN error output does not match /${c.buildahErrRegex}/`);
  const archive = openOciArchive(out);
  try {
    const { config, manifest } = archive;
    if (config.rootfs.diff_ids.length !== manifest.layers.length) errors.push(`${config.rootfs.diff_ids.length} diff_ids for ${manifest.layers.length} layers`);
    const layered = config.history.filter((h) => !h.empty_layer).length;
    if (layered !== manifest.layers.length) errors.push(`${layered} non-empty history entries for ${manifest.layers.length} layers`);
    // Every layer must list with GNU tar and apply cleanly (whiteouts and all: tar-tree.ts).
    // (The cases' fsSkip keys are not used as expectations: upstream copy-pastes them between
    // cases, so they name paths some images never have.)
    const layers = manifest.layers.map((l) => archive.blob(l.digest));
    for (const layer of layers) listLayer(layer);
    const tree = flattenLayers(layers);
    if (errors.length) errors.push(`output:\n${tail}`);
    return { errors, log: [`${manifest.layers.length} layers, ${tree.size} paths`] };
  } finally {
    fs.rmSync(archive.dir, { recursive: true, force: true });
  }
}

/** At most `n` builds at once: the sandbox and compression are CPU-bound. */
class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;
  constructor(private readonly n: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

// Registered last: the helpers above (a class) must be initialised first.
if (!fs.existsSync(path.join(buildahDir, 'cases.json'))) {
  if (inCi) {
    test('buildah conformance data is present', (t) => t.fail(`${buildahDir}/cases.json is missing (set NBUILD_CONFORMANCE)`));
  } else {
    test.skip(`buildah conformance: ${buildahDir} not found, set NBUILD_CONFORMANCE to run it`, () => undefined);
  }
} else {
  registerCases();
}
