// Mirrors, rewrites, blocked and insecure registries, from a registries.conf-style TOML
// subset (docs/registries.md): /etc/nbuild/registries.toml, then
// ~/.config/nbuild/registries.toml (user entries replace system ones with the same prefix).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NbuildError, RegistryError } from '../errors.js';

export interface MirrorEntry {
  location: string;
  insecure: boolean;
}

export interface RegistryEntry {
  /** host[/path] the entry applies to, matched at `/` boundaries; longest wins. */
  prefix: string;
  /** Where the prefix really lives (a rewrite); defaults to the prefix. */
  location: string;
  insecure: boolean;
  blocked: boolean;
  /** Tried in order before `location`, for pulls only. */
  mirrors: MirrorEntry[];
  /** Use mirrors only for references by digest (a tag on a stale mirror could lie). */
  mirrorByDigestOnly: boolean;
}

export interface RegistriesConfig {
  registries: RegistryEntry[];
}

/** One place to try: registry host plus the repository there. */
export interface Endpoint {
  registry: string;
  repository: string;
  insecure: boolean;
  /** Whether this is a mirror (pull-only) rather than the primary location. */
  mirror: boolean;
}

type Value = string | boolean | number | string[];
type Table = Record<string, Value>;

/** parseRegistriesToml reads the documented subset: comments, `key = value` (strings, booleans, integers,
 *  arrays of strings), `[[registry]]` and `[[registry.mirror]]`, and top-level `insecure-registries` /
 *  `blocked-registries` arrays. Anything else is an error naming the line. */
export function parseRegistriesToml(text: string, file: string): RegistriesConfig {
  const top: Table = {};
  const registries: { table: Table; mirrors: Table[] }[] = [];
  let current: Table = top;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const fail = (why: string): never => {
      throw new NbuildError('REGISTRIES_CONFIG', `${file}:${i + 1}: ${why}`);
    };
    const line = stripComment(raw).trim();
    if (line === '') continue;
    if (line === '[[registry]]') {
      registries.push({ table: {}, mirrors: [] });
      current = registries[registries.length - 1].table;
    } else if (line === '[[registry.mirror]]') {
      const reg = registries[registries.length - 1] ?? fail('[[registry.mirror]] before any [[registry]]');
      reg.mirrors.push({});
      current = reg.mirrors[reg.mirrors.length - 1];
    } else if (line.startsWith('[')) {
      fail(`unsupported table ${line} (only [[registry]] and [[registry.mirror]])`);
    } else {
      const eq = line.indexOf('=');
      if (eq <= 0) fail('expected key = value');
      const key = line.slice(0, eq).trim().replace(/^"(.*)"$/, '$1');
      current[key] = parseValue(line.slice(eq + 1).trim(), fail);
    }
  }
  const entries = registries.map((r, n) => toEntry(r.table, r.mirrors, `${file}: [[registry]] #${n + 1}`));
  for (const host of stringList(top['insecure-registries'], file)) entries.push(plainEntry(host, { insecure: true }));
  for (const host of stringList(top['blocked-registries'], file)) entries.push(plainEntry(host, { blocked: true }));
  return { registries: entries };
}

function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== '\\') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function parseValue(text: string, fail: (why: string) => never): Value {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^-?\d+$/.test(text)) return Number(text);
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) fail('unterminated string');
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail('unterminated string');
    return text.slice(1, -1);
  }
  if (text.startsWith('[') && text.endsWith(']')) {
    const inner = text.slice(1, -1).trim();
    if (inner === '') return [];
    return inner.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
      const v = parseValue(s, fail);
      return typeof v === 'string' ? v : fail('arrays may only hold strings');
    });
  }
  return fail(`cannot read value ${text} (strings must be quoted; arrays on one line)`);
}

function toEntry(t: Table, mirrors: Table[], where: string): RegistryEntry {
  const str = (v: Value | undefined, key: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new NbuildError('REGISTRIES_CONFIG', `${where}: ${key} must be a string`);
    return v;
  };
  const bool = (v: Value | undefined, key: string): boolean => {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new NbuildError('REGISTRIES_CONFIG', `${where}: ${key} must be true or false`);
    return v;
  };
  const location = str(t.location, 'location');
  const prefix = str(t.prefix, 'prefix') ?? location ?? '';
  if (prefix === '') throw new NbuildError('REGISTRIES_CONFIG', `${where}: needs a prefix or a location`);
  return {
    prefix: trimSlashes(prefix),
    location: trimSlashes(location ?? prefix),
    insecure: bool(t.insecure, 'insecure'),
    blocked: bool(t.blocked, 'blocked'),
    mirrorByDigestOnly: bool(t['mirror-by-digest-only'], 'mirror-by-digest-only'),
    mirrors: mirrors.map((m) => ({
      location: trimSlashes(str(m.location, 'mirror location') ?? ''),
      insecure: bool(m.insecure, 'mirror insecure'),
    })).filter((m) => m.location !== ''),
  };
}

function plainEntry(host: string, flags: { insecure?: boolean; blocked?: boolean }): RegistryEntry {
  const h = trimSlashes(host);
  return { prefix: h, location: h, insecure: flags.insecure ?? false, blocked: flags.blocked ?? false, mirrors: [], mirrorByDigestOnly: false };
}

function stringList(v: Value | undefined, file: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new NbuildError('REGISTRIES_CONFIG', `${file}: expected an array of strings`);
  return v;
}

function trimSlashes(s: string): string {
  return s.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
}

/** configPaths lists the files read, system first. NBUILD_REGISTRIES_CONFIG replaces both. */
export function configPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.NBUILD_REGISTRIES_CONFIG) return [env.NBUILD_REGISTRIES_CONFIG];
  const home = env.HOME || os.homedir();
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return ['/etc/nbuild/registries.toml', path.join(xdg, 'nbuild', 'registries.toml')];
}

/** loadRegistriesConfig reads and merges the config files that exist. */
export function loadRegistriesConfig(files: string[] = configPaths()): RegistriesConfig {
  const byPrefix = new Map<string, RegistryEntry>();
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new NbuildError('REGISTRIES_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    for (const e of parseRegistriesToml(text, file).registries) {
      const prev = byPrefix.get(e.prefix);
      // Shorthand lists only add flags to an entry that the same or an earlier file made.
      byPrefix.set(e.prefix, prev && e.mirrors.length === 0 && e.location === e.prefix
        ? { ...prev, insecure: prev.insecure || e.insecure, blocked: prev.blocked || e.blocked }
        : e);
    }
  }
  return { registries: [...byPrefix.values()] };
}

/** findEntry returns the entry with the longest prefix matching `registry/repository`. */
export function findEntry(config: RegistriesConfig, registry: string, repository: string): RegistryEntry | undefined {
  const full = `${registry}/${repository}`;
  let best: RegistryEntry | undefined;
  for (const e of config.registries) {
    if (full === e.prefix || full.startsWith(`${e.prefix}/`)) {
      if (!best || e.prefix.length > best.prefix.length) best = e;
    }
  }
  return best;
}

/** Loopback registries are plain HTTP by default, as Docker treats 127.0.0.0/8. */
export function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** resolveEndpoints lists where to pull (`push` false: mirrors first) or push (`push` true: the
 *  primary location only) `registry/repository`. Throws when the registry is blocked. */
export function resolveEndpoints(config: RegistriesConfig, registry: string, repository: string, opts: { push: boolean; byDigest: boolean; tlsVerify?: boolean }): Endpoint[] {
  const entry = findEntry(config, registry, repository);
  if (entry?.blocked) {
    throw new RegistryError(`${registry}/${repository} is blocked by the registries configuration (${entry.prefix})`, { codes: ['BLOCKED'] });
  }
  const forced = opts.tlsVerify === false;
  const place = (location: string, insecure: boolean, mirror: boolean): Endpoint => {
    const rest = entry ? `${registry}/${repository}`.slice(entry.prefix.length) : `/${repository}`;
    const [host, ...pathParts] = `${location}${rest}`.split('/');
    const inner = findEntry(config, host, pathParts.join('/'));
    return { registry: host, repository: pathParts.join('/'), insecure: forced || insecure || (inner?.insecure ?? false) || isLoopback(host), mirror };
  };
  const out: Endpoint[] = [];
  if (entry && !opts.push && (!entry.mirrorByDigestOnly || opts.byDigest)) {
    for (const m of entry.mirrors) out.push(place(m.location, m.insecure, true));
  }
  out.push(entry ? place(entry.location, entry.insecure, false) : place(registry, false, false));
  return out;
}
