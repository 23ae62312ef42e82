// Instruction flags (`--from=x`, `--link`), typed and checked like BuildKit's
// BFlags: unknown flags, missing values and duplicates are errors.

/** An error inside one instruction; instructions.ts adds file and line. */
export class InstructionError extends Error {}

type FlagKind = 'string' | 'bool' | 'strings';

export class FlagSet {
  private readonly kinds = new Map<string, FlagKind>();
  private readonly values = new Map<string, string[]>();

  constructor(spec: Record<string, FlagKind>) {
    for (const [name, kind] of Object.entries(spec)) this.kinds.set(name, kind);
  }

  /** Parses raw flag words (`--name=value` or `--name`). */
  parse(flags: readonly string[], instruction: string): this {
    for (const raw of flags) {
      if (!raw.startsWith('--')) throw new InstructionError(`invalid flag ${JSON.stringify(raw)}`);
      const body = raw.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const kind = this.kinds.get(name);
      if (kind === undefined) throw new InstructionError(this.unknown(name, instruction));
      if (eq < 0 && kind !== 'bool') throw new InstructionError(`missing a value on flag: ${name}`);
      const value = eq < 0 ? 'true' : body.slice(eq + 1);
      const seen = this.values.get(name) ?? [];
      if (kind !== 'strings' && seen.length > 0) throw new InstructionError(`duplicate flag specified: ${name}`);
      if (kind === 'bool' && !/^(true|false)$/i.test(value)) {
        throw new InstructionError(`expecting boolean value for flag ${name}, not: ${value}`);
      }
      this.values.set(name, [...seen, value]);
    }
    return this;
  }

  private unknown(name: string, instruction: string): string {
    const known = [...this.kinds.keys()];
    const hint = suggest(name, known);
    const where = known.length === 0 ? `${instruction} takes no flags` : `${instruction} accepts ${known.map((k) => '--' + k).join(', ')}`;
    // BuildKit's wording: "unknown flag: --mont (did you mean mount?)"
    return `unknown flag: --${name}${hint ? ` (did you mean ${hint}?)` : ''}; ${where}`;
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
  bool(name: string): boolean {
    return (this.values.get(name)?.[0] ?? 'false').toLowerCase() === 'true';
  }
  /** undefined when the flag was not given at all. */
  optionalBool(name: string): boolean | undefined {
    return this.values.has(name) ? this.bool(name) : undefined;
  }
  strings(name: string): string[] {
    return this.values.get(name) ?? [];
  }
}

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The closest candidate within distance 2 (case-insensitive), if any. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(text: string): number {
  const m = /^([-+]?)(.*)$/.exec(text);
  const body = m?.[2] ?? '';
  if (body === '0') return 0;
  if (body === '') throw new InstructionError(`time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  // µ (micro sign) and μ (Greek mu) as escapes: a non-ASCII character in the CLI bundle makes V8
  // hold all of it as a two-byte string (scripts/bundle.mjs refuses one).
  const re = /(\d+\.?\d*|\.\d+)([a-z\u00b5\u03bc]+)/gy;
  let pos = 0;
  for (let part = re.exec(body); part !== null; part = re.exec(body)) {
    const unit = UNITS[part[2]];
    if (unit === undefined) throw new InstructionError(`time: unknown unit ${JSON.stringify(part[2])} in duration ${JSON.stringify(text)}`);
    total += Number(part[1]) * unit;
    pos = re.lastIndex;
  }
  if (pos !== body.length) throw new InstructionError(`time: invalid duration ${JSON.stringify(text)}`);
  return Math.round(m?.[1] === '-' ? -total : total);
}

/** ADD --checksum: a digest of an algorithm nbuild (and BuildKit) verifies; BuildKit's messages. */
export function checkChecksum(checksum: string): void {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(checksum);
  if (!m) throw new InstructionError(`invalid checksum digest format: ${JSON.stringify(checksum)} (expected sha256:<64 hex digits>)`);
  const hexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
  const want = hexLength[m[1]];
  if (want === undefined) throw new InstructionError(`unsupported digest algorithm: ${JSON.stringify(m[1])} in checksum ${JSON.stringify(checksum)} (sha256, sha384 or sha512)`);
  if (!new RegExp(`^[a-f0-9]{${want}}$`).test(m[2])) throw new InstructionError(`invalid checksum digest format: ${JSON.stringify(checksum)} (${m[1]} takes ${want} lowercase hex digits)`);
}
