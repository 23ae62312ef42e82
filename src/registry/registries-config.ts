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
  /** Which references the mirror serves (containers' pull-from-mirror): all, digest-only, tag-only. */
  pullFrom: 'all' | 'digest-only' | 'tag-only';
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
  /** Where a short name (`alpine`) is looked up, in order; unset or empty: docker.io. */
  unqualifiedSearch?: string[];
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

/** parseRegistriesToml reads the documented subset of containers-registries.conf(5): comments,
 *  `key = value` (strings, booleans, integers, arrays of strings, also over several lines),
 *  `unqualified-search-registries`, `[[registry]]` and `[[registry.mirror]]`, top-level
 *  `insecure-registries` / `blocked-registries`, and the v1 tables `[registries.search]`,
 *  `[registries.insecure]`, `[registries.block]` (`registries = [...]`). `[aliases]` is read and
 *  ignored (a short name means Docker Hub, as for docker). Any other table is an error naming the line. */
export function parseRegistriesToml(text: string, file: string): RegistriesConfig {
  const top: Table = {};
  const registries: { table: Table; mirrors: Table[] }[] = [];
  const v1: Record<string, Table> = { 'registries.search': {}, 'registries.insecure': {}, 'registries.block': {} };
  let current: Table = top;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = i;
    const fail = (why: string): never => {
      throw new NbuildError('REGISTRIES_CONFIG', `${file}:${at + 1}: ${why}`);
    };
    const line = stripComment(lines[i]).trim();
    if (line === '') continue;
    if (line === '[[registry]]') {
      registries.push({ table: {}, mirrors: [] });
      current = registries[registries.length - 1].table;
    } else if (line === '[[registry.mirror]]') {
      const reg = registries[registries.length - 1] ?? fail('[[registry.mirror]] before any [[registry]]');
      reg.mirrors.push({});
      current = reg.mirrors[reg.mirrors.length - 1];
    } else if (line === '[aliases]') {
      current = {}; // read, not used
    } else if (/^\[registries\.(search|insecure|block)\]$/.test(line)) {
      current = v1[line.slice(1, -1)];
    } else if (line.startsWith('[')) {
      fail(`unsupported table ${line} (only [[registry]], [[registry.mirror]], [aliases] and the v1 [registries.*])`);
    } else {
      const eq = line.indexOf('=');
      if (eq <= 0) fail('expected key = value');
      const key = line.slice(0, eq).trim().replace(/^"(.*)"$/, '$1');
      let value = line.slice(eq + 1).trim();
      // An array may go on over the next lines, up to its closing bracket.
      while (value.startsWith('[') && !value.endsWith(']') && i + 1 < lines.length) value += ` ${stripComment(lines[++i]).trim()}`;
      current[key] = parseValue(value, fail);
    }
  }
  const entries = registries.map((r, n) => toEntry(r.table, r.mirrors, `${file}: [[registry]] #${n + 1}`));
  for (const host of [...stringList(top['insecure-registries'], file), ...stringList(v1['registries.insecure'].registries, file)]) entries.push(plainEntry(host, { insecure: true }));
  for (const host of [...stringList(top['blocked-registries'], file), ...stringList(v1['registries.block'].registries, file)]) entries.push(plainEntry(host, { blocked: true }));
  const search = top['unqualified-search-registries'] ?? v1['registries.search'].registries;
  return { registries: entries, ...(search !== undefined ? { unqualifiedSearch: stringList(search, file).map(trimSlashes) } : {}) };
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
  // `*.example.com`: any host under example.com, which stays where it is (containers: no location then).
  const wildcard = prefix.startsWith('*.');
  if (wildcard && (location !== undefined || prefix.includes('/'))) throw new NbuildError('REGISTRIES_CONFIG', `${where}: a wildcard prefix ${prefix} names hosts only and takes no location`);
  const pullFrom = (v: Value | undefined): MirrorEntry['pullFrom'] => {
    if (v === undefined) return 'all';
    if (v === 'all' || v === 'digest-only' || v === 'tag-only') return v;
    throw new NbuildError('REGISTRIES_CONFIG', `${where}: pull-from-mirror must be all, digest-only or tag-only`);
  };
  return {
    prefix: trimSlashes(prefix),
    location: wildcard ? '' : trimSlashes(location ?? prefix),
    insecure: bool(t.insecure, 'insecure'),
    blocked: bool(t.blocked, 'blocked'),
    mirrorByDigestOnly: bool(t['mirror-by-digest-only'], 'mirror-by-digest-only'),
    mirrors: mirrors.map((m) => ({
      location: trimSlashes(str(m.location, 'mirror location') ?? ''),
      insecure: bool(m.insecure, 'mirror insecure'),
      pullFrom: pullFrom(m['pull-from-mirror']),
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

/**
 * configPaths lists the files read, in order; an entry of a later file replaces one of the same
 * prefix. First containers-registries.conf(5)'s, found as containers/image finds them:
 * $CONTAINERS_REGISTRIES_CONF, else ~/.config/containers/registries.conf when it exists, else
 * /etc/containers/registries.conf; then the `*.conf` drop-ins of /etc/containers/registries.conf.d
 * (unless the user's file is the main one) and of ~/.config/containers/registries.conf.d, each
 * folder in name order. Then nbuild's own: /etc/nbuild/registries.toml, ~/.config/nbuild/registries.toml.
 * NBUILD_REGISTRIES_CONFIG replaces them all.
 */
export function configPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.NBUILD_REGISTRIES_CONFIG) return [env.NBUILD_REGISTRIES_CONFIG];
  const home = env.HOME || os.homedir();
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  const userFile = path.join(home, '.config', 'containers', 'registries.conf');
  const userMain = !env.CONTAINERS_REGISTRIES_CONF && fs.existsSync(userFile);
  const main = env.CONTAINERS_REGISTRIES_CONF || (userMain ? userFile : '/etc/containers/registries.conf');
  const dropIns = [...(userMain ? [] : ['/etc/containers/registries.conf.d']), `${userFile}.d`].flatMap(confFiles);
  return [main, ...dropIns, '/etc/nbuild/registries.toml', path.join(xdg, 'nbuild', 'registries.toml')];
}

/** The `*.conf` files of a drop-in folder, in name order (none when it is missing). */
function confFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** loadRegistriesConfig reads and merges the config files that exist. */
export function loadRegistriesConfig(files: string[] = configPaths()): RegistriesConfig {
  const byPrefix = new Map<string, RegistryEntry>();
  let unqualifiedSearch: string[] | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new NbuildError('REGISTRIES_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const parsed = parseRegistriesToml(text, file);
    if (parsed.unqualifiedSearch !== undefined) unqualifiedSearch = parsed.unqualifiedSearch;
    for (const e of parsed.registries) {
      const prev = byPrefix.get(e.prefix);
      // Shorthand lists only add flags to an entry that the same or an earlier file made.
      byPrefix.set(e.prefix, prev && e.mirrors.length === 0 && e.location === e.prefix
        ? { ...prev, insecure: prev.insecure || e.insecure, blocked: prev.blocked || e.blocked }
        : e);
    }
  }
  return { registries: [...byPrefix.values()], ...(unqualifiedSearch !== undefined ? { unqualifiedSearch } : {}) };
}

/** findEntry returns the entry with the longest prefix matching `registry/repository` (a wildcard
 *  prefix `*.example.com` matches the host only). */
export function findEntry(config: RegistriesConfig, registry: string, repository: string): RegistryEntry | undefined {
  const full = `${registry}/${repository}`;
  let best: RegistryEntry | undefined;
  for (const e of config.registries) {
    const matches = e.prefix.startsWith('*.') ? registry.endsWith(e.prefix.slice(1)) : full === e.prefix || full.startsWith(`${e.prefix}/`);
    if (matches && (!best || e.prefix.length > best.prefix.length)) best = e;
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
  // What of `registry/repository` the entry's prefix matched: the host for a wildcard.
  const matched = !entry ? registry.length : entry.prefix.startsWith('*.') ? registry.length : entry.prefix.length;
  const place = (location: string, insecure: boolean, mirror: boolean): Endpoint => {
    const rest = `${registry}/${repository}`.slice(matched);
    const [host, ...pathParts] = `${location || registry}${rest}`.split('/');
    const inner = findEntry(config, host, pathParts.join('/'));
    return { registry: host, repository: pathParts.join('/'), insecure: forced || insecure || (inner?.insecure ?? false) || isLoopback(host), mirror };
  };
  const out: Endpoint[] = [];
  if (entry && !opts.push && (!entry.mirrorByDigestOnly || opts.byDigest)) {
    for (const m of entry.mirrors) {
      if (m.pullFrom === 'all' || (m.pullFrom === 'digest-only') === opts.byDigest) out.push(place(m.location, m.insecure, true));
    }
  }
  out.push(entry ? place(entry.location, entry.insecure, false) : place(registry, false, false));
  return out;
}

/**
 * Where a short name (`alpine`, `user/app`: `repository` as parsed, `library/alpine`) is pulled
 * from: each of `unqualified-search-registries` in order, the first that has it wins (their own
 * mirrors first; a blocked one is left out); docker.io when the list is unset or empty.
 */
export function resolveShortNameEndpoints(config: RegistriesConfig, repository: string, opts: { push: boolean; byDigest: boolean; tlsVerify?: boolean }): Endpoint[] {
  const search = config.unqualifiedSearch ?? [];
  if (opts.push || search.length === 0) return resolveEndpoints(config, 'docker.io', repository, opts);
  const familiar = /^library\/[^/]+$/.test(repository) ? repository.slice('library/'.length) : repository;
  const out: Endpoint[] = [];
  let blocked: unknown;
  for (const registry of search) {
    const repo = registry === 'docker.io' ? repository : familiar;
    try {
      out.push(...resolveEndpoints(config, registry, repo, opts));
    } catch (err) {
      if (!(err instanceof RegistryError) || !err.codes.includes('BLOCKED')) throw err;
      blocked ??= err;
    }
  }
  if (out.length === 0) throw blocked;
  return out;
}
