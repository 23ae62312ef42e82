// The packages an image's package databases list, read from its root file system (no network,
// nothing run): dpkg (/var/lib/dpkg/status and the distroless /var/lib/dpkg/status.d/*) and apk
// (/lib/apk/db/installed). An rpm database is found but not read (its headers are a binary
// format in SQLite or Berkeley DB): the caller warns that its packages are missing.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { NbuildError } from '../../errors.js';
import { lstatIn, resolveInRoot } from '../../fs/in-root.js';

export interface InstalledPackage {
  manager: 'dpkg' | 'apk';
  name: string;
  version: string;
  architecture?: string;
  /** Maintainer as the database writes it (`Name <mail>`). */
  maintainer?: string;
  license?: string;
  /** The source package (dpkg Source:, apk origin), when it differs. */
  source?: string;
  /** The database file, as a path in the image. */
  db: string;
}

export interface PackageScan {
  packages: InstalledPackage[];
  /** /etc/os-release ID and VERSION_ID (for package URLs' distro qualifier). */
  distro?: { id: string; versionId?: string };
  /** Package databases found and not read (rpm). */
  unread: string[];
}

// A status file is text of some hundred kilobytes; a bigger one is not a package database.
const MAX_DB_BYTES = 64 * 1024 * 1024;
const RPM_DBS = ['/var/lib/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages', '/var/lib/rpm/Packages.db', '/usr/lib/sysimage/rpm/rpmdb.sqlite'];

/** Reads the package databases under `root` (the image's merged tree). */
export async function scanPackages(root: string): Promise<PackageScan> {
  const packages: InstalledPackage[] = [];
  const status = await readInImage(root, '/var/lib/dpkg/status');
  if (status !== undefined) packages.push(...dpkgPackages(status, '/var/lib/dpkg/status'));
  for (const name of await listInImage(root, '/var/lib/dpkg/status.d')) {
    if (name.includes('.')) continue; // NAME.md5sums beside each NAME
    const file = `/var/lib/dpkg/status.d/${name}`;
    const text = await readInImage(root, file);
    if (text !== undefined) packages.push(...dpkgPackages(text, file));
  }
  const apk = await readInImage(root, '/lib/apk/db/installed');
  if (apk !== undefined) packages.push(...apkPackages(apk, '/lib/apk/db/installed'));
  const unread: string[] = [];
  for (const db of RPM_DBS) if ((await lstatIn(root, db.slice(1)))?.isFile()) unread.push(db);
  return { packages, distro: osRelease(await readInImage(root, '/etc/os-release')), unread };
}

/** dpkg's status format: RFC 822 paragraphs; a package is listed when its Status ends in "installed". */
export function dpkgPackages(text: string, db: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const fields of paragraphs(text)) {
    const name = fields.get('package');
    const version = fields.get('version');
    if (!name || !version) continue;
    const status = fields.get('status');
    if (status !== undefined && status.split(/\s+/).pop() !== 'installed') continue;
    const source = fields.get('source')?.split(/\s+/)[0];
    out.push({ manager: 'dpkg', name, version, architecture: fields.get('architecture'), maintainer: fields.get('maintainer'), source: source && source !== name ? source : undefined, db });
  }
  return out;
}

/** apk's installed database: `X:value` lines, a blank line between packages. */
export function apkPackages(text: string, db: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (m && !f.has(m[1])) f.set(m[1], m[2]);
    }
    const name = f.get('P');
    const version = f.get('V');
    if (!name || !version) continue;
    const origin = f.get('o');
    out.push({ manager: 'apk', name, version, architecture: f.get('A'), maintainer: f.get('m'), license: f.get('L'), source: origin && origin !== name ? origin : undefined, db });
  }
  return out;
}

function paragraphs(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (last) cur.set(last, `${cur.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).toLowerCase();
    cur.set(last, line.slice(colon + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}

function osRelease(text: string | undefined): PackageScan['distro'] {
  if (text === undefined) return undefined;
  const v = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=("?)(.*)\2\s*$/.exec(line.trim());
    if (m) v.set(m[1], m[3]);
  }
  const id = v.get('ID');
  return id ? { id, versionId: v.get('VERSION_ID') } : undefined;
}

/** A file of the image (symlinks followed inside it), or undefined when there is none. */
async function readInImage(root: string, file: string): Promise<string | undefined> {
  const real = await resolveInRoot(root, file);
  const st = await fs.lstat(real).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (st.size > MAX_DB_BYTES) throw new NbuildError('SBOM_FAILED', `${file} of the image is ${st.size} bytes: too big for a package database`);
  return fs.readFile(real, 'utf8');
}

async function listInImage(root: string, dir: string): Promise<string[]> {
  const real = await resolveInRoot(root, dir);
  const st = await fs.lstat(real).catch(() => undefined);
  if (!st?.isDirectory()) return [];
  const names = await fs.readdir(real);
  const files: string[] = [];
  for (const n of names.sort()) if ((await fs.lstat(path.join(real, n)).catch(() => undefined))?.isFile()) files.push(n);
  return files;
}
