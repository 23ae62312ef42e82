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

export { hostPlatform, formatPlatform, parsePlatform, samePlatform, type Platform } from '../image/platform.js';

/** TARGETPLATFORM, BUILDPLATFORM and their parts, as BuildKit predefines them. */
export function platformArgs(target: Platform, build: Platform = target): Map<string, string> {
  const args = new Map<string, string>();
  for (const [prefix, p] of [['TARGET', normalizePlatform(target)], ['BUILD', normalizePlatform(build)]] as const) {
    args.set(`${prefix}PLATFORM`, formatPlatform(p));
    args.set(`${prefix}OS`, p.os);
    args.set(`${prefix}ARCH`, p.architecture);
    args.set(`${prefix}VARIANT`, p.variant ?? '');
  }
  return args;
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
    else scope.delete(def.name); // declared, no value: expands to "" but stays out of RUN's env
  }
}
