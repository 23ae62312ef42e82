// The single-id rootless case: in `unshare -Ur` only the invoking user is mapped (to 0), so a
// chown to any other id fails with EINVAL; ignoreChownErrors lets extraction go on.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTar } from '../helpers/hostile-archives.js';
import { tempDir } from './helpers.js';

const facade = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/native/index.js');

const child = `
const { extractLayer } = await import(${JSON.stringify(facade)});
const [blob, dir] = process.argv.slice(2);
const out = {};
try { await extractLayer({ inputPath: blob, destDir: dir + '/strict', whiteouts: 'apply' }); out.strict = 'ok'; }
catch (e) { out.strict = e.code; out.syscall = e.syscall; }
await extractLayer({ inputPath: blob, destDir: dir + '/lenient', whiteouts: 'apply', ignoreChownErrors: true });
const fsm = await import('node:fs');
out.mode = (fsm.statSync(dir + '/lenient/f').mode & 0o7777).toString(8);
out.data = fsm.readFileSync(dir + '/lenient/f', 'utf8');
console.log(JSON.stringify(out));
`;

test('unmapped ids: EINVAL from chown, or ignored with ignoreChownErrors', (t) => {
  const work = tempDir('userns');
  const blob = path.join(work, 'layer.tar');
  fs.writeFileSync(blob, buildTar([{ name: 'f', data: 'hi', uid: 5, gid: 7, mode: 0o2755 }]));
  const script = path.join(work, 'child.mjs');
  fs.writeFileSync(script, child);
  const args = ['-Ur', process.execPath, script, blob, work];
  let out: string;
  if (process.getuid?.() === 0) {
    execFileSync('chown', ['-R', 'nbtest:nbtest', work]);
    out = execFileSync('runuser', ['-u', 'nbtest', '--', 'unshare', ...args]).toString();
  } else {
    out = execFileSync('unshare', args).toString();
  }
  t.deepEqual(JSON.parse(out), { strict: 'EINVAL', syscall: 'fchownat', mode: '2755', data: 'hi' });
});
