// COPY/ADD --chmod: the one grammar (frontend/dockerfile/chmod.ts), BSD setmode semantics with
// umask 0 as BuildKit applies them. Checked against chmod(1) itself on real files and folders
// (run with umask 0, where GNU chmod and BSD setmode agree).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyChmod, parseChmod } from '../../src/frontend/dockerfile/chmod.js';
import { InstructionError } from '../../src/frontend/dockerfile/flags.js';

const SPECS = [
  'go-w', 'u=rw,g=r,o=r', 'a+X', 'u+rw,g+r,o-x,o+w', '+x', 'a-x', 'u=rwx,go=rx', 'g=u', 'o=g', 'u+x-w', 'go=',
  'u=rwx,go=u-w', 'a=', 'ug+rw', 'o+t', 'u+s', 'g+s', '+t', 'u-s', 'a=rx', 'u=g', 'go+u', 'ugo-rwx', '+rw', 'a+rwX,o-w',
];
// No set-id or sticky bits (in modes or specs): GNU chmod treats those otherwise than setmode
// does (see the next test).
const MODES = [0o000, 0o124, 0o644, 0o600, 0o755, 0o711, 0o777, 0o666, 0o421];

test('symbolic modes: the same bits as chmod(1) on files and folders', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-chmod-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  const sub = path.join(dir, 'd');
  fs.writeFileSync(file, '');
  fs.mkdirSync(sub);
  const chmod = (spec: string, p: string): number => {
    execFileSync('sh', ['-c', 'umask 0 && chmod "$1" "$2"', 'sh', spec, p]);
    return fs.statSync(p).mode & 0o7777;
  };
  for (const spec of SPECS.filter((x) => !/[st]/.test(x))) {
    const parsed = parseChmod(spec);
    for (const mode of MODES) {
      fs.chmodSync(file, mode);
      t.is(applyChmod(parsed, mode, false).toString(8), chmod(spec, file).toString(8), `file ${mode.toString(8)} ${spec}`);
      fs.chmodSync(sub, mode);
      t.is(applyChmod(parsed, mode, true).toString(8), chmod(spec, sub).toString(8), `dir ${mode.toString(8)} ${spec}`);
    }
  }
  fs.chmodSync(sub, 0o755);
});

test('set-id and sticky bits as BSD setmode (BuildKit) treats them', (t) => {
  const apply = (spec: string, mode: number, isDir = false): string => applyChmod(parseChmod(spec), mode, isDir).toString(8);
  t.is(apply('u=rw,g=r,o=r', 0o1777), '1644'); // o= does not reach the sticky bit (GNU clears it)
  t.is(apply('u-s', 0o4755), '755');
  t.is(apply('g+s', 0o755, true), '2755');
  t.is(apply('+t', 0o755), '1755');
  t.is(apply('o+t', 0o755), '755'); // "other" alone: sticky ignored
  t.is(apply('o+s', 0o755), '755'); // "other" alone: set-id ignored
  t.is(apply('a=rx', 0o4755), '555');
  t.is(apply('u+s,g+s', 0o755), '6755');
  // X looks at the mode before the change (setmode; GNU looks at it as changed so far)
  t.is(apply('=rw,+X', 0o124), '777');
  t.is(apply('=rw,+X', 0o644), '666');
});

test('octal modes set every bit; numeric-looking junk gets BuildKit\'s message', (t) => {
  t.is(applyChmod(parseChmod('0'), 0o644, false), 0);
  t.is(applyChmod(parseChmod('4755'), 0o644, false), 0o4755);
  t.is(applyChmod(parseChmod('0644'), 0o4777, true), 0o644);
  for (const bad of ['64a', '10000', '8', '0o755', '-1']) {
    const e = t.throws(() => parseChmod(bad), { instanceOf: InstructionError });
    if (bad !== '-1') t.is(e?.message, `invalid chmod parameter: '${bad}'. it should be octal string and between 0 and 07777`);
  }
  for (const bad of ['', 'abc', 'u', 'u+', 'u+x,', 'x+u', 'u+q']) {
    if (bad === 'u+') continue; // `u+` is valid (no bits): as setmode
    t.throws(() => parseChmod(bad), { instanceOf: InstructionError }, bad);
  }
  t.deepEqual(parseChmod('u+').ops, []);
});
