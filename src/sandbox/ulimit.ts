// `--ulimit TYPE=SOFT[:HARD]` (buildx, docker): resource limits the sandbox sets with setrlimit
// just before it execs a RUN command (native/sandbox/run.cc). Parsed as docker's go-units
// ParseUlimit does; -1 is unlimited. A rootless process cannot raise a hard limit above its own,
// so that is refused before the build starts instead of failing in the first RUN.
import * as fs from 'node:fs';
import { UsageError } from '../errors.js';

/** One limit as the sandbox spec carries it: decimal strings, or 'unlimited'. */
export interface Ulimit {
  name: UlimitName;
  soft: string;
  hard: string;
}

/** docker's names (go-units ulimitNameMapping), each with its line in /proc/self/limits. */
const LIMITS = {
  core: 'Max core file size',
  cpu: 'Max cpu time',
  data: 'Max data size',
  fsize: 'Max file size',
  locks: 'Max file locks',
  memlock: 'Max locked memory',
  msgqueue: 'Max msgqueue size',
  nice: 'Max nice priority',
  nofile: 'Max open files',
  nproc: 'Max processes',
  rss: 'Max resident set',
  rtprio: 'Max realtime priority',
  rttime: 'Max realtime timeout',
  sigpending: 'Max pending signals',
  stack: 'Max stack size',
} as const;

export type UlimitName = keyof typeof LIMITS;

const INFINITY = -1n;
const INT64_MAX = (1n << 63n) - 1n;

function parseValue(text: string, flag: string): bigint {
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`${flag}: ${JSON.stringify(text)} is not a number`);
  const v = BigInt(text);
  if (v > INT64_MAX || (v < 0n && v !== INFINITY)) throw new UsageError(`${flag}: ${text} is out of range (a count, or -1 for unlimited)`);
  return v;
}

const show = (v: bigint): string => (v === INFINITY ? 'unlimited' : v.toString());

/** `--ulimit` values (repeatable; a later one for the same type wins, as in buildx). */
export function parseUlimits(values: readonly string[]): Ulimit[] {
  const byName = new Map<UlimitName, Ulimit>();
  for (const value of values) {
    const flag = `--ulimit ${value}`;
    const eq = value.indexOf('=');
    if (eq < 0) throw new UsageError(`${flag}: expected TYPE=SOFT[:HARD], e.g. nofile=1024:2048`);
    const name = value.slice(0, eq);
    if (!Object.hasOwn(LIMITS, name)) throw new UsageError(`${flag}: unknown type ${JSON.stringify(name)} (one of ${Object.keys(LIMITS).join(', ')})`);
    const parts = value.slice(eq + 1).split(':');
    if (parts.length > 2) throw new UsageError(`${flag}: too many values, expected SOFT[:HARD]`);
    const soft = parseValue(parts[0], flag);
    const hard = parts.length === 2 ? parseValue(parts[1], flag) : soft;
    if (hard !== INFINITY && (soft === INFINITY || soft > hard)) {
      throw new UsageError(`${flag}: the soft limit must not be above the hard limit: ${show(soft)} > ${show(hard)}`);
    }
    byName.set(name as UlimitName, { name: name as UlimitName, soft: show(soft), hard: show(hard) });
  }
  return [...byName.values()];
}

/** nbuild's own hard limits, from /proc/self/limits (the sandbox inherits them). */
export function ownHardLimits(text = fs.readFileSync('/proc/self/limits', 'utf8')): Map<UlimitName, bigint> {
  const out = new Map<UlimitName, bigint>();
  for (const [name, label] of Object.entries(LIMITS) as [UlimitName, string][]) {
    const line = text.split('\n').find((l) => l.startsWith(label + ' '));
    const hard = line?.slice(label.length).trim().split(/\s+/)[1];
    if (hard !== undefined) out.set(name, hard === 'unlimited' ? INFINITY : BigInt(hard));
  }
  return out;
}

/** Refuses a hard limit above nbuild's own: without CAP_SYS_RESOURCE setrlimit cannot raise it. */
export function checkUlimitsAgainstOwn(ulimits: readonly Ulimit[], own = ownHardLimits()): void {
  for (const u of ulimits) {
    const mine = own.get(u.name);
    if (mine === undefined || mine === INFINITY) continue;
    const wanted = u.hard === 'unlimited' ? INFINITY : BigInt(u.hard);
    if (wanted === INFINITY || wanted > mine) {
      throw new UsageError(`--ulimit ${u.name}: the hard limit ${u.hard} is above nbuild's own (${mine}); a rootless build cannot raise it (lower it, or raise nbuild's with ulimit -H)`);
    }
  }
}
