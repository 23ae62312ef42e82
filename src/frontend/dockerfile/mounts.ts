// `RUN --mount=type=…,target=…` options → RunMount, as BuildKit's
// instructions/commands_runmount.go accepts them.
import type { RunMount } from './types.js';
import { InstructionError, suggest } from './flags.js';

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
type MountType = (typeof TYPES)[number];

const KEYS: Record<MountType, string[]> = {
  bind: ['type', 'target', 'source', 'from', 'readonly', 'readwrite'],
  cache: ['type', 'target', 'id', 'sharing', 'from', 'source', 'readonly', 'readwrite', 'mode', 'uid', 'gid'],
  tmpfs: ['type', 'target', 'size'],
  secret: ['type', 'id', 'target', 'env', 'required', 'mode', 'uid', 'gid'],
  ssh: ['type', 'id', 'target', 'required', 'mode', 'uid', 'gid'],
};
const ALIASES: Record<string, string> = { dst: 'target', destination: 'target', src: 'source', ro: 'readonly', rw: 'readwrite' };

/** Splits `a=b,"c=d,e"` like Go's csv reader (quoted fields may hold commas). */
function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"') {
      if (quoted && value[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = !quoted;
    } else if (ch === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new InstructionError(`invalid --mount value ${JSON.stringify(value)}: unterminated quote`);
  fields.push(field);
  return fields;
}

function parseBool(key: string, value: string | undefined): boolean {
  if (value === undefined) return true; // a bare key means true
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new InstructionError(`invalid value for ${key}: ${value}`);
}

/** The largest id a uid or gid option may name: 2³²−1 is (uid_t)−1, "no owner", not an id. */
const MAX_ID = 2 ** 32 - 2;
const MAX_MODE = 0o7777;

function parseNumber(key: string, value: string, base: 8 | 10): number {
  const ok = base === 8 ? /^0?[0-7]+$/.test(value) : /^\d+$/.test(value);
  if (!ok) throw new InstructionError(`invalid value for ${key}: ${value}`);
  const n = parseInt(value, base);
  const max = key === 'mode' ? MAX_MODE : MAX_ID;
  if (n > max) throw new InstructionError(`invalid value for ${key}: ${value} is out of range (at most ${base === 8 ? `0${max.toString(8)}` : max})`);
  return n;
}

/** `64m`, `1g`, `100` (bytes) → bytes, as go-units RAMInBytes; at most 2⁵³−1 (8 PiB), a whole number. */
function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(value);
  if (!m) throw new InstructionError(`invalid value for size: ${value}`);
  const power = 'bkmgtp'.indexOf(m[2].toLowerCase() || 'b');
  const bytes = Math.floor(Number(m[1]) * 1024 ** power);
  if (!Number.isSafeInteger(bytes)) throw new InstructionError(`invalid value for size: ${value} is too large (at most 8 PiB)`);
  return bytes;
}

function collect(value: string): { type: MountType; opts: Map<string, string | undefined> } {
  const opts = new Map<string, string | undefined>();
  for (const field of splitCsv(value)) {
    if (field.trim() === '') continue;
    const eq = field.indexOf('=');
    const rawKey = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const key = ALIASES[rawKey] ?? rawKey;
    opts.set(key, eq < 0 ? undefined : field.slice(eq + 1));
  }
  const type = (opts.get('type') ?? 'bind').toLowerCase();
  if (!(TYPES as readonly string[]).includes(type)) {
    const hint = suggest(type, TYPES);
    throw new InstructionError(`unsupported mount type ${JSON.stringify(type)}${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  const allowed = KEYS[type as MountType];
  for (const key of opts.keys()) {
    if (!allowed.includes(key)) {
      const hint = suggest(key, allowed);
      throw new InstructionError(`unexpected key '${key}' in --mount=type=${type}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
  }
  return { type: type as MountType, opts };
}

export function parseMount(value: string): RunMount {
  const { type, opts } = collect(value);
  const str = (k: string): string | undefined => {
    const v = opts.get(k);
    if (opts.has(k) && (v === undefined || v === '') && k !== 'source') throw new InstructionError(`${k} requires a value`);
    return v;
  };
  const num = (k: string, base: 8 | 10): number | undefined => (opts.has(k) ? parseNumber(k, str(k) ?? '', base) : undefined);
  const target = str('target');
  // An empty or relative target is resolved against WORKDIR by the executor (as BuildKit).
  const needTarget = (): string => target ?? '';
  const readonly = opts.has('readonly') ? parseBool('readonly', opts.get('readonly')) : opts.has('readwrite') ? !parseBool('readwrite', opts.get('readwrite')) : undefined;
  switch (type) {
    case 'bind':
      return { type, target: needTarget(), source: str('source'), from: str('from'), readwrite: readonly === false };
    case 'cache': {
      const sharing = (str('sharing') ?? 'shared').toLowerCase();
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked') {
        throw new InstructionError(`unsupported sharing value ${JSON.stringify(sharing)} (shared, private or locked)`);
      }
      return { type, target: needTarget(), id: str('id'), sharing, from: str('from'), source: str('source'), readonly: readonly === true, mode: num('mode', 8), uid: num('uid', 10), gid: num('gid', 10) };
    }
    case 'tmpfs':
      return { type, target: needTarget(), size: opts.has('size') ? parseSize(str('size') ?? '') : undefined };
    case 'secret': {
      // BuildKit: the id defaults to the target's base name
      const id = str('id') ?? (target ? target.replace(/\/+$/, '').split('/').pop() : undefined);
      if (!id) throw new InstructionError('secret mount requires an id or a target');
      const required = opts.has('required') ? parseBool('required', opts.get('required')) : false;
      return { type, id, target, env: str('env'), required, mode: num('mode', 8), uid: num('uid', 10), gid: num('gid', 10) };
    }
    case 'ssh': {
      const required = opts.has('required') ? parseBool('required', opts.get('required')) : false;
      return { type, id: str('id'), target, required, mode: num('mode', 8), uid: num('uid', 10), gid: num('gid', 10) };
    }
  }
}
