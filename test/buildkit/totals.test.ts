// The suite's totals (README.md): every test BuildKit registers (upstream-tests.txt) is either
// ported (an ava test titled with its name in one of this folder's files) or in the README's
// "Not ported" table with a reason. Prints one line with the counts.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../helpers/nbuild-cli.js';

const dir = path.join(projectRoot, 'test', 'buildkit');

interface Registration {
  name: string;
  failing: boolean;
  file: string;
}

/** BuildKit's tests, by name, with the file each lives in. */
function upstreamTests(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(dir, 'upstream-tests.txt'), 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const [name, file] = line.trim().split(/\s+/);
    out.set(name, file);
  }
  return out;
}

/** The ava registrations of the ported files: `test('testX', …)`, `test.failing('testX', …)` (also `.serial`). */
function registrations(): { ported: Registration[]; other: string[] } {
  const ported: Registration[] = [];
  const other: string[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.test.ts') && f !== 'totals.test.ts').sort()) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/\btest((?:\.serial)?(?:\.failing)?|\.skip|\.todo|\.only)\(\s*(['"`])([^'"`]+)\2/g)) {
      if (m[1] === '.skip' || m[1] === '.todo' || m[1] === '.only') other.push(`${file}: test${m[1]}('${m[3]}')`);
      else ported.push({ name: m[3], failing: m[1].endsWith('.failing'), file });
    }
  }
  return { ported, other };
}

/** The README's "Not ported" table: BuildKit test → reason (and the names listed more than once). */
function notPorted(): { rows: Map<string, { file: string; why: string }>; repeated: string[] } {
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Not ported'));
  const rows = new Map<string, { file: string; why: string }>();
  const repeated: string[] = [];
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^`?test\w+`?$/.test(cells[1])) continue;
    const name = cells[1].replace(/`/g, '');
    if (rows.has(name)) repeated.push(name);
    rows.set(name, { file: cells[2].replace(/`/g, ''), why: cells[3] });
  }
  return { rows, repeated };
}

test('totals: every BuildKit test is ported or listed as not ported, once', (t) => {
  const upstream = upstreamTests();
  const { ported, other } = registrations();
  const { rows: table, repeated } = notPorted();
  t.deepEqual(repeated, [], 'each BuildKit test is listed once in the Not ported table');
  t.deepEqual(other, [], 'no test.skip, test.todo or test.only: a test that cannot pass is a test.failing with its reason');

  const seen = new Map<string, string>();
  for (const r of ported) {
    t.true(upstream.has(r.name), `${r.file}: "${r.name}" is not a BuildKit test name`);
    t.false(seen.has(r.name), `"${r.name}" is ported twice (${seen.get(r.name)}, ${r.file})`);
    seen.set(r.name, r.file);
    t.false(table.has(r.name), `"${r.name}" is both ported (${r.file}) and in the Not ported table`);
  }
  for (const [name, row] of table) {
    t.true(upstream.has(name), `Not ported table: "${name}" is not a BuildKit test name`);
    t.is(row.file, upstream.get(name) ?? '', `Not ported table: "${name}" lives in ${upstream.get(name)}, not ${row.file}`);
    t.not(row.why, '', `Not ported table: "${name}" needs a reason`);
  }
  // A BuildKit file is either not started or wholly accounted for.
  const accounted = new Set([...seen.keys(), ...table.keys()]);
  const started = new Set([...accounted].map((n) => upstream.get(n)));
  const missing = [...upstream].filter(([name, file]) => started.has(file) && !accounted.has(name)).map(([name, file]) => `${file}: ${name}`);
  t.deepEqual(missing, [], 'every test of a file being ported is ported or in the Not ported table');

  const failing = ported.filter((r) => r.failing).length;
  const unaccounted = [...upstream.keys()].filter((n) => !accounted.has(n)).length;
  t.log(
    `BuildKit Dockerfile tests: ${upstream.size} upstream; ported ${ported.length} ` +
      `(passing ${ported.length - failing} when ava reports no failure, known failures ${failing} as test.failing); ` +
      `not ported ${table.size}; not yet looked at ${unaccounted}`,
  );
});
