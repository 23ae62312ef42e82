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

/**
 * State (field 3) and start time (field 22) of a process from /proc, or undefined without one.
 * Both come after the parenthesised command, which may hold spaces.
 */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], start: fields[19] };
  } catch {
    return undefined;
  }
}

// A zombie has ended: it only waits to be reaped, and when its parent died with it (a
// SIGKILLed build), that is up to PID 1, which may take its time.
const ended = (state: string): boolean => state === 'Z' || state === 'X';

/** A running process's start time, or undefined when it is gone or only a zombie. */
function startTime(pid: number): string | undefined {
  const st = procStat(pid);
  return st && !ended(st.state) ? st.start : undefined;
}

/** Whether a process is running: exists and is not a zombie (temp files carry only a pid). */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const st = procStat(pid);
  return st === undefined || !ended(st.state); // no /proc: kill(0) said it exists
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
  // The owner had no /proc: all we can ask is whether its pid exists.
  if (o.start === '') return pidRunning(o.pid);
  const start = startTime(o.pid);
  return start !== undefined && start === o.start;
}
