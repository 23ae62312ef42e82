// The id map of a process's user namespace (/proc/PID/uid_map), for the tests that check which
// test set runs where (docs/design.md "Tests").
import * as fs from 'node:fs';

/** [inside, outside, count] rows of /proc/PID/uid_map. */
export function uidMap(pid: number | 'self' = 'self'): [number, number, number][] {
  return fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]);
}
