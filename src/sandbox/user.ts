// USER resolution with Docker's rules (runc/moby `user.GetExecUser`), and COPY/ADD --chown's
// owner with BuildKit's (solver/llbsolver/ops/user_linux.go readUser), reading the image's
// /etc/passwd and /etc/group from a plain root dir or from an overlay lower stack.
import { readFile } from 'node:fs/promises';
import { NbuildError } from '../errors.js';
import type { Chown } from '../frontend/dockerfile/chown.js';
import { findInTrees } from '../fs/in-root.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

/**
 * Reads `p` from the top-most layer that has it, resolved in the image as src/fs/in-root.ts does (a
 * whiteout or a non-directory parent hides the lower layers; a symlink stays inside the image).
 * (Opaque directories need xattrs, which node cannot read; /etc is practically never opaque.)
 */
async function readLayered(dirs: string[], p: string): Promise<string | undefined> {
  const found = await findInTrees(dirs, p);
  return found?.st.isFile() ? readFile(found.path, 'utf8') : undefined;
}

function parseId(s: string): number | undefined {
  return /^[0-9]+$/.test(s) ? Number(s) : undefined;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    out.push({ name: f[0], gid, members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

function checkRange(id: number, what: string, spec: string): number {
  if (id > MAX_ID) throw new NbuildError('USER_RANGE', `USER ${spec}: ${what} ${id} is out of range`);
  return id;
}

/** Pure core of resolveUser, on file contents (undefined: the file is absent). */
export function resolveUserFrom(passwd: string | undefined, group: string | undefined, spec: string): ResolvedUser {
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);
  const result: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  const users = parsePasswd(passwd ?? '').filter((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let matchedName = '';
  if (users.length > 0) {
    matchedName = users[0].name;
    result.uid = users[0].uid;
    result.gid = users[0].gid;
    result.home = users[0].home;
  } else if (userArg !== '') {
    if (uidArg === undefined)
      throw new NbuildError('USER_NOT_FOUND', `unable to find user ${userArg}: no matching entries in passwd file`);
    result.uid = checkRange(uidArg, 'uid', spec);
  }
  const groups = parseGroup(group ?? '').filter((g) => {
    if (groupArg === '') return matchedName !== '' && g.members.includes(matchedName);
    return gidArg !== undefined ? g.gid === gidArg : g.name === groupArg;
  });
  if (groupArg !== '') {
    if (groups.length > 0) result.gid = groups[0].gid;
    else if (gidArg === undefined)
      throw new NbuildError('GROUP_NOT_FOUND', `unable to find group ${groupArg}: no matching entries in group file`);
    else result.gid = checkRange(gidArg, 'gid', spec);
  }
  // The primary group is a supplementary group too, then (implicit form only, as Docker does)
  // the user's /etc/group memberships: containerd's rule since CVE-2023-25173, which BuildKit's
  // testUserAdditionalGids checks (`id` shows groups=PRIMARY,…).
  const memberships = groupArg === '' ? groups.map((g) => g.gid) : [];
  result.additionalGids = [...new Set([result.gid, ...memberships])];
  return result;
}

/**
 * Resolves a Dockerfile USER (`name`, `uid`, `name:group`, `uid:gid`, …) against the image.
 * `rootfsDir` is a plain root directory or an overlay lower stack, top-most first.
 */
export async function resolveUser(rootfsDir: string | string[], user: string): Promise<ResolvedUser> {
  const dirs = Array.isArray(rootfsDir) ? rootfsDir : [rootfsDir];
  const [passwd, group] = await Promise.all([readLayered(dirs, '/etc/passwd'), readLayered(dirs, '/etc/group')]);
  return resolveUserFrom(passwd, group, user);
}

/**
 * The ids a parsed --chown gives (undefined: it sets no owner). A numeric user is its own gid; a
 * named one takes its uid and primary gid from /etc/passwd; a group replaces the gid. Unlike
 * BuildKit (which falls back to id 0), a name the image does not have is an error.
 */
export function resolveChownFrom(passwd: string | undefined, group: string | undefined, chown: Chown): { uid: number; gid: number } | undefined {
  const { user, group: groupRef } = chown;
  if (user === undefined) return undefined;
  let uid: number;
  let gid: number;
  if (user.name === undefined) uid = gid = user.id;
  else {
    const entry = parsePasswd(passwd ?? '').find((u) => u.name === user.name);
    if (entry === undefined) throw new NbuildError('USER_NOT_FOUND', `unable to find user ${user.name}: no matching entries in passwd file`);
    ({ uid, gid } = entry);
  }
  if (groupRef?.name !== undefined) {
    const entry = parseGroup(group ?? '').find((g) => g.name === groupRef.name);
    if (entry === undefined) throw new NbuildError('GROUP_NOT_FOUND', `unable to find group ${groupRef.name}: no matching entries in group file`);
    gid = entry.gid;
  } else if (groupRef !== undefined) gid = groupRef.id;
  return { uid, gid };
}

/** resolveChownFrom on the image at `rootfsDir` (a root directory or an overlay lower stack, top-most first). */
export async function resolveChown(rootfsDir: string | string[], chown: Chown): Promise<{ uid: number; gid: number } | undefined> {
  if (chown.user === undefined) return undefined;
  // Only names are looked up (BuildKit reads no file for numeric ids).
  const dirs = Array.isArray(rootfsDir) ? rootfsDir : [rootfsDir];
  const [passwd, group] = await Promise.all([
    chown.user.name !== undefined ? readLayered(dirs, '/etc/passwd') : undefined,
    chown.group?.name !== undefined ? readLayered(dirs, '/etc/group') : undefined,
  ]);
  return resolveChownFrom(passwd, group, chown);
}
