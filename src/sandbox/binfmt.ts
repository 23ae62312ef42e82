// Which platforms this host can RUN: its own natively, others through a binfmt_misc handler
// (qemu user-mode emulation) registered with the F flag. F makes the kernel open the
// interpreter when the handler is registered, so it works inside the sandbox's new root,
// where no qemu binary exists. The handler table's folder is injectable for tests
// (NBUILD_BINFMT_DIR); nothing here needs privileges.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { formatPlatform, hostPlatform, normalizePlatform, type Platform } from '../image/platform.js';

export const BINFMT_DIR = '/proc/sys/fs/binfmt_misc';

export function binfmtDir(): string {
  return process.env.NBUILD_BINFMT_DIR || BINFMT_DIR;
}

export type RunSupport =
  | { how: 'native'; platform: string }
  | { how: 'emulated'; platform: string; handler: string; interpreter: string }
  | { how: 'unavailable'; platform: string; reason: string };

/** ELF identity of each architecture: class (1 = 32-bit, 2 = 64-bit), byte order, e_machine; qemu's name. */
const ELF: Record<string, { cls: 1 | 2; little: boolean; machine: number; qemu: string }> = {
  amd64: { cls: 2, little: true, machine: 0x3e, qemu: 'x86_64' },
  arm64: { cls: 2, little: true, machine: 0xb7, qemu: 'aarch64' },
  arm: { cls: 1, little: true, machine: 0x28, qemu: 'arm' },
  '386': { cls: 1, little: true, machine: 0x03, qemu: 'i386' },
  ppc64le: { cls: 2, little: true, machine: 0x15, qemu: 'ppc64le' },
  s390x: { cls: 2, little: false, machine: 0x16, qemu: 's390x' },
  riscv64: { cls: 2, little: true, machine: 0xf3, qemu: 'riscv64' },
  mips64le: { cls: 2, little: true, machine: 0x08, qemu: 'mips64el' },
};

export const KNOWN_ARCHITECTURES = Object.keys(ELF);

interface Handler {
  name: string;
  enabled: boolean;
  flags: string;
  offset: number;
  magic: Buffer;
  mask?: Buffer;
  interpreter: string;
}

/** How a RUN for `p` can run on this host; `unavailable` says why and names the fix. */
export async function runSupport(p: Platform, dir = binfmtDir()): Promise<RunSupport> {
  const platform = formatPlatform(normalizePlatform(p));
  const host = hostPlatform();
  if (p.os !== 'linux') return { how: 'unavailable', platform, reason: `nbuild runs Linux programs only, not ${p.os}` };
  if (p.architecture === host.architecture) return { how: 'native', platform };
  const elf = ELF[p.architecture];
  if (!elf) return { how: 'unavailable', platform, reason: `nbuild does not know the ELF identity of ${p.architecture}` };
  const fix = `as root: apt-get install qemu-user-static binfmt-support && update-binfmts --enable qemu-${elf.qemu}`;
  const status = await fs.readFile(path.join(dir, 'status'), 'utf8').catch(() => undefined);
  if (status === undefined) return { how: 'unavailable', platform, reason: `binfmt_misc is not mounted at ${dir} (${fix}; mount -t binfmt_misc binfmt_misc ${BINFMT_DIR} first if needed)` };
  if (status.trim() === 'disabled') return { how: 'unavailable', platform, reason: `binfmt_misc is disabled on this host (as root: echo 1 > ${dir}/status)` };
  const handlers = (await readHandlers(dir)).filter((h) => matchesArch(h, elf));
  const usable = handlers.find((h) => h.enabled && h.flags.includes('F'));
  if (usable) return { how: 'emulated', platform, handler: usable.name, interpreter: usable.interpreter };
  if (handlers.some((h) => h.enabled)) {
    const h = handlers.find((x) => x.enabled) as Handler;
    return { how: 'unavailable', platform, reason: `the binfmt_misc handler ${h.name} (${h.interpreter}) is registered without the F flag, so its interpreter cannot be found inside the build's root (${fix}: Debian's handlers have the F flag)` };
  }
  if (handlers.length) return { how: 'unavailable', platform, reason: `the binfmt_misc handler ${handlers[0].name} is disabled (${fix})` };
  return { how: 'unavailable', platform, reason: `no binfmt_misc handler for ${p.architecture} programs in ${dir} (${fix})` };
}

/** Native and emulated support for every architecture nbuild knows, host first. */
export async function runSupportAll(dir = binfmtDir()): Promise<RunSupport[]> {
  const host = hostPlatform().architecture;
  const archs = [host, ...KNOWN_ARCHITECTURES.filter((a) => a !== host)];
  return Promise.all(archs.map((a) => runSupport({ os: 'linux', architecture: a }, dir)));
}

async function readHandlers(dir: string): Promise<Handler[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: Handler[] = [];
  for (const name of names) {
    if (name === 'register' || name === 'status') continue;
    const text = await fs.readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const field = (key: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))?.slice(key.length + 1).trim();
    const magic = field('magic');
    if (!magic || !/^[0-9a-f]*$/i.test(magic)) continue; // an extension handler, not a magic one
    const mask = field('mask');
    out.push({
      name,
      enabled: text.split('\n')[0].trim() === 'enabled',
      flags: field('flags') ?? '',
      offset: Number(field('offset') ?? '0'),
      magic: Buffer.from(magic, 'hex'),
      mask: mask && /^[0-9a-f]*$/i.test(mask) ? Buffer.from(mask, 'hex') : undefined,
      interpreter: field('interpreter') ?? '',
    });
  }
  return out;
}

/** Does the handler's magic select ELF executables of this class, byte order and machine? */
function matchesArch(h: Handler, elf: { cls: 1 | 2; little: boolean; machine: number }): boolean {
  if (h.offset !== 0 || h.magic.length < 20) return false;
  const byte = (i: number): number => h.magic[i] & (h.mask ? (h.mask[i] ?? 0xff) : 0xff);
  const want = (i: number, v: number): boolean => byte(i) === (v & (h.mask ? (h.mask[i] ?? 0xff) : 0xff));
  const machine = elf.little ? [elf.machine & 0xff, elf.machine >> 8] : [elf.machine >> 8, elf.machine & 0xff];
  return want(0, 0x7f) && want(1, 0x45) && want(2, 0x4c) && want(3, 0x46) && want(4, elf.cls) && want(5, elf.little ? 1 : 2) && want(18, machine[0]) && want(19, machine[1]);
}
