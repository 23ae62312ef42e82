// Process identity for lock files and temp-dir owners. A pid alone is not enough
// (pids are reused), so the owner also records its start time from /proc. The
// pid is the one /proc shows (NSpid's first field), so a process that entered a
// new pid namespace but kept the host's /proc is still recognised by others.
import { readFileSync } from 'node:fs';

export interface Owner {
  pid: number;
  start: string;
  since: number;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) comes after the parenthesised command, which may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function procPid(): number {
  try {
    const m = /^NSpid:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no /proc: fall back to our own view
  }
  return process.pid;
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  if (!self) {
    const pid = procPid();
    self = { pid, start: startTime(pid) ?? '', since: Date.now() };
  }
  return self;
}

export function parseOwner(text: string): Owner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid !== 'number' || typeof o.start !== 'string') return undefined;
    return { pid: o.pid, start: o.start, since: o.since ?? 0 };
  } catch {
    return undefined;
  }
}

/** Whether the owning process is still running (true when it cannot be told). */
export function ownerAlive(o: Owner): boolean {
  if (o.start === '') {
    // The owner had no /proc: all we can ask is whether its pid exists.
    try {
      process.kill(o.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  const start = startTime(o.pid);
  return start !== undefined && start === o.start;
}
