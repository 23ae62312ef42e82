// runSupport reads a binfmt_misc folder: these fake ones stand for hosts with and without qemu.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSupport } from '../../src/sandbox/binfmt.js';
import { hostPlatform } from '../../src/image/platform.js';

const AARCH64 = { magic: '7f454c460201010000000000000000000200b700', mask: 'ffffffffffffff00fffffffffffffffffeffffff' };
const S390X = { magic: '7f454c4602020100000000000000000000020016', mask: 'ffffffffffffff00fffffffffffffffffffeffff' };
const arm64 = { os: 'linux', architecture: 'arm64' };
const foreign = hostPlatform().architecture === 'arm64' ? { os: 'linux', architecture: 'amd64' } : arm64;

function binfmtDir(handlers: Record<string, string>, status = 'enabled'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-binfmt-'));
  fs.writeFileSync(path.join(dir, 'status'), `${status}\n`);
  fs.writeFileSync(path.join(dir, 'register'), '');
  for (const [name, text] of Object.entries(handlers)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const handler = (h: { magic: string; mask: string }, flags: string, state = 'enabled') =>
  `${state}\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: ${flags}\noffset 0\nmagic ${h.magic}\nmask ${h.mask}\n`;

test('the host platform runs natively; another os never runs', async (t) => {
  t.is((await runSupport(hostPlatform(), binfmtDir({}))).how, 'native');
  const win = await runSupport({ os: 'windows', architecture: hostPlatform().architecture }, binfmtDir({}));
  t.is(win.how, 'unavailable');
});

test('an enabled aarch64 handler with the F flag emulates arm64 (whatever its name)', async (t) => {
  if (foreign !== arm64) return t.pass('this host is arm64');
  const r = await runSupport(arm64, binfmtDir({ 'my-arm': handler(AARCH64, 'POF') }));
  t.deepEqual(r, { how: 'emulated', platform: 'linux/arm64', handler: 'my-arm', interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P' });
});

test('without F, disabled, another arch, not mounted, or binfmt_misc off: unavailable, naming the fix', async (t) => {
  if (foreign !== arm64) return t.pass('this host is arm64');
  const noF = await runSupport(arm64, binfmtDir({ 'qemu-aarch64': handler(AARCH64, 'PO') }));
  t.is(noF.how, 'unavailable');
  t.regex((noF as { reason: string }).reason, /without the F flag/);
  const off = await runSupport(arm64, binfmtDir({ 'qemu-aarch64': handler(AARCH64, 'POF', 'disabled') }));
  t.regex((off as { reason: string }).reason, /qemu-aarch64 is disabled/);
  const other = await runSupport(arm64, binfmtDir({ 'qemu-s390x': handler(S390X, 'POF') }));
  t.regex((other as { reason: string }).reason, /no binfmt_misc handler for arm64 .*apt-get install qemu-user-static.*update-binfmts --enable qemu-aarch64/);
  const unmounted = await runSupport(arm64, fs.mkdtempSync(path.join(os.tmpdir(), 'nbuild-binfmt-')));
  t.regex((unmounted as { reason: string }).reason, /not mounted/);
  const globallyOff = await runSupport(arm64, binfmtDir({ 'qemu-aarch64': handler(AARCH64, 'POF') }, 'disabled'));
  t.regex((globallyOff as { reason: string }).reason, /binfmt_misc is disabled/);
});
