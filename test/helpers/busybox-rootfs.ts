// A tiny but real root file system for tests: Debian's busybox-static with one symlink per
// applet, and /etc/passwd, /etc/group with a few users. Owned by whoever calls it.
import { execFileSync } from 'node:child_process';
import { copyFile, chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';

export const BUSYBOX = '/bin/busybox';

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'user:x:1000:1000:Test User:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n') + '\n';

export const GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'audio:x:29:user',
  'www-data:x:33:',
  'users:x:100:user,nobody',
  'user:x:1000:',
  'nogroup:x:65534:',
].join('\n') + '\n';

export interface BusyboxRootfsOptions {
  /** Also create the /proc, /dev, /sys mount-point dirs a Debian image has (default false). */
  mountPoints?: boolean;
}

let applets: string[] | undefined;

function listApplets(): string[] {
  applets ??= execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '' && l !== 'bin/busybox');
  return applets;
}

/** Fills `dir` (created if needed) with the busybox root file system and returns `dir`. */
export async function makeBusyboxRootfs(dir: string, options: BusyboxRootfsOptions = {}): Promise<string> {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home/user', 'var/www', 'tmp']) {
    await mkdir(join(dir, d), { recursive: true });
  }
  await chmod(join(dir, 'tmp'), 0o1777);
  await chmod(join(dir, 'root'), 0o700);
  if (options.mountPoints) for (const d of ['proc', 'dev', 'sys']) await mkdir(join(dir, d), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  await Promise.all(
    listApplets().map(async (rel) => {
      await mkdir(join(dir, dirname(rel)), { recursive: true });
      await symlink('/bin/busybox', join(dir, rel)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }),
  );
  await writeFile(join(dir, 'etc/passwd'), PASSWD);
  await writeFile(join(dir, 'etc/group'), GROUP);
  await writeFile(join(dir, 'etc/os-release'), 'ID=busybox\nNAME="nbuild test busybox"\n');
  return dir;
}
