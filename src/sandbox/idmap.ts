// Id mappings: the subordinate ranges of /etc/subuid and /etc/subgid, and the maps in force.
import { readFileSync } from 'node:fs';
import type { IdMapEntry } from './spec.js';

export interface SubIdRange {
  start: number;
  count: number;
}

/**
 * The first subordinate range of `/etc/subuid`-style `text` for a user, matched by name or by
 * numeric uid as shadow-utils does. Undefined when the user has none.
 */
export function parseSubIds(text: string, name: string, id: number): SubIdRange | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (owner !== name && owner !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && s >= 0 && c > 0) return { start: s, count: c };
  }
  return undefined;
}

export function readSubIds(file: string, name: string, id: number): SubIdRange | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseSubIds(text, name, id);
}

export function parseIdMap(text: string): IdMapEntry[] {
  const out: IdMapEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    out.push({ containerId: Number(f[0]), hostId: Number(f[1]), size: Number(f[2]) });
  }
  return out;
}

/** The uid and gid maps of this process, read from /proc/self. */
export function currentIdMapping(): { uids: IdMapEntry[]; gids: IdMapEntry[] } {
  return {
    uids: parseIdMap(readFileSync('/proc/self/uid_map', 'utf8')),
    gids: parseIdMap(readFileSync('/proc/self/gid_map', 'utf8')),
  };
}

/** True when this process runs in a user namespace other than the host's initial one. */
export function inUserNamespace(): boolean {
  const { uids } = currentIdMapping();
  const identity = uids.length === 1 && uids[0].containerId === 0 && uids[0].hostId === 0 && uids[0].size === 4294967295;
  return !identity;
}

/** The host id that `id` of the namespace stands for, or undefined when it is not mapped. */
export function toHostId(map: IdMapEntry[], id: number): number | undefined {
  for (const e of map) if (id >= e.containerId && id < e.containerId + e.size) return e.hostId + (id - e.containerId);
  return undefined;
}
