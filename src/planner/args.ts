// ARG scoping as Docker does it: global ARGs (before the first FROM) are visible
// to FROM lines only; inside a stage an `ARG NAME` brings a global (or build-arg)
// value into scope; build args override defaults. Predefined ARGs (proxies) are
// usable by RUN without a declaration; the platform ARGs are global automatically.
import type { ArgInstruction } from '../frontend/dockerfile/types.js';

export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
] as const;

import { formatPlatform, normalizePlatform, type Platform } from '../image/platform.js';

/** RUN's hostname: `--build-arg BUILDKIT_SANDBOX_HOSTNAME=NAME` as in BuildKit, else nbuild's. */
export function sandboxHostname(buildArgs: ReadonlyMap<string, string>): string {
  return buildArgs.get('BUILDKIT_SANDBOX_HOSTNAME') || 'nbuild';
}

export { hostPlatform, formatPlatform, parsePlatform, samePlatform, type Platform } from '../image/platform.js';

/** TARGETPLATFORM, BUILDPLATFORM and their parts, as BuildKit predefines them. */
export function platformArgs(target: Platform, build: Platform = target): Map<string, string> {
  const args = new Map<string, string>();
  for (const [prefix, p] of [['TARGET', normalizePlatform(target)], ['BUILD', normalizePlatform(build)]] as const) {
    args.set(`${prefix}PLATFORM`, formatPlatform(p));
    args.set(`${prefix}OS`, p.os);
    args.set(`${prefix}OSVERSION`, '');
    args.set(`${prefix}ARCH`, p.architecture);
    args.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return args;
}

/**
 * The global ARGs every build has (BuildKit's defaultArgs): the platform ARGs and TARGETSTAGE,
 * the stage being built (`--target`, else the last stage's name, else "default"). A --build-arg
 * of the same name replaces the value.
 */
export function predefinedArgs(platform: Platform, targetStage: string, buildArgs: ReadonlyMap<string, string>, buildPlatform: Platform = platform): Map<string, string> {
  const args = platformArgs(platform, buildPlatform);
  args.set('TARGETSTAGE', targetStage || 'default');
  for (const key of args.keys()) {
    const given = buildArgs.get(key);
    if (given !== undefined) args.set(key, given);
  }
  return args;
}

/**
 * The proxy build args as RUN sees them (BuildKit's ProxyEnv): given in either case, set in both,
 * without an ARG line. They stay out of cache keys and the history, so a changed proxy reuses
 * the cache. Where both spellings are given, the lowercase one (last in byte order) wins.
 */
export function proxyEnv(buildArgs: ReadonlyMap<string, string>): Map<string, string> {
  const env = new Map<string, string>();
  for (const key of [...buildArgs.keys()].sort()) {
    const upper = key.toUpperCase();
    if (!(PROXY_ARGS as readonly string[]).includes(upper)) continue;
    const value = buildArgs.get(key) ?? '';
    if (value === '') continue;
    env.set(upper, value);
    env.set(upper.toLowerCase(), value);
  }
  return env;
}

/**
 * Applies ARG instructions to a scope. `outer` holds the values a declaration
 * without a default may take (global ARG values inside a stage); build args win.
 */
export function declareArgs(
  scope: Map<string, string>,
  instr: ArgInstruction,
  buildArgs: ReadonlyMap<string, string>,
  expand: (word: string) => string,
  outer: ReadonlyMap<string, string> = new Map(),
  consumed?: Set<string>,
): void {
  for (const def of instr.args) {
    consumed?.add(def.name);
    const fromBuild = buildArgs.get(def.name);
    if (fromBuild !== undefined) scope.set(def.name, fromBuild);
    else if (def.defaultValue !== undefined) scope.set(def.name, expand(def.defaultValue));
    else if (outer.has(def.name)) scope.set(def.name, outer.get(def.name) ?? '');
    // Declared with no value: a value it already has stays (BuildKit adds nothing to the env);
    // otherwise it expands to "" but stays out of RUN's env.

  }
}
