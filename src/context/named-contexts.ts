// `--build-context NAME=VALUE` (buildx): a named context takes the place of `FROM NAME`,
// `COPY --from=NAME` and `RUN --mount=from=NAME`, and of the whole stage `AS NAME` (BuildKit's
// dockerfile2llb: a stage named like a context is not built, the context is its result).
// Pure: what each value means; fetching a Git or HTTP one is src/context/remote-context.ts.
import * as path from 'node:path';
import { parseReference } from '../image/reference.js';
import { UsageError } from '../errors.js';

export type NamedContextSpec =
  /** docker-image://REF (resolved like a FROM) or oci-layout://DIR[:TAG|@DIGEST] (as `oci:DIR…`). */
  | { kind: 'image'; ref: string }
  /** docker-image://scratch: an empty tree. */
  | { kind: 'scratch' }
  /** A folder on this host (its own .dockerignore applies). */
  | { kind: 'local'; dir: string }
  /** A Git or http(s) URL, fetched into a folder before the build. */
  | { kind: 'remote'; url: string };

/**
 * The key a name is looked up by, as BuildKit's NamedContext: the reference's familiar form
 * without `:latest` (`FROM docker.io/library/busybox:latest` finds `busybox`). undefined for a
 * name that is no reference (it can name no context) and for `scratch` and `context`.
 */
export function contextKey(name: string): string | undefined {
  if (/^(scratch|context)$/i.test(name)) return undefined;
  try {
    return parseReference(name).familiar().replace(/:latest$/, '');
  } catch {
    return undefined;
  }
}

/** `--build-context NAME=VALUE` values → specs by key; bad usage is one line naming the value. */
export function parseBuildContexts(values: readonly string[]): Map<string, NamedContextSpec> {
  const out = new Map<string, NamedContextSpec>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--build-context ${v}: expected NAME=VALUE (a folder, docker-image://REF, oci-layout://DIR or a URL)`);
    const name = v.slice(0, eq);
    const value = v.slice(eq + 1);
    const key = contextKey(name);
    if (key === undefined) throw new UsageError(`--build-context ${v}: ${JSON.stringify(name)} is not a valid context name (lowercase, as an image name)`);
    if (out.has(key)) throw new UsageError(`--build-context ${v}: the context ${name} is given twice`);
    out.set(key, parseValue(v, value));
  }
  return out;
}

function parseValue(flag: string, value: string): NamedContextSpec {
  if (value.startsWith('docker-image://')) {
    const ref = value.slice('docker-image://'.length);
    if (ref === 'scratch') return { kind: 'scratch' };
    try {
      parseReference(ref);
    } catch (error) {
      throw new UsageError(`--build-context ${flag}: ${(error as Error).message}`);
    }
    return { kind: 'image', ref };
  }
  if (value.startsWith('oci-layout://')) {
    const rest = value.slice('oci-layout://'.length);
    const at = rest.lastIndexOf('@');
    // `@sha256:…` picks a manifest by digest; `:TAG` one by its ref.name (base-image.ts's oci: transport).
    if (at > 0 && /^sha256:[0-9a-f]{64}$/.test(rest.slice(at + 1))) return { kind: 'image', ref: `oci:${path.resolve(rest.slice(0, at))}@${rest.slice(at + 1)}` };
    if (rest === '') throw new UsageError(`--build-context ${flag}: oci-layout:// names no folder`);
    const colon = rest.lastIndexOf(':');
    const tag = colon > 0 && !rest.slice(colon + 1).includes('/') ? rest.slice(colon + 1) : undefined;
    const dir = tag === undefined ? rest : rest.slice(0, colon);
    return { kind: 'image', ref: `oci:${path.resolve(dir)}${tag ? `:${tag}` : ''}` };
  }
  if (isRemoteContext(value)) return { kind: 'remote', url: value };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new UsageError(`--build-context ${flag}: unsupported context source ${value.split('://')[0]}:// (a folder, docker-image://, oci-layout://, a Git or http(s) URL)`);
  return { kind: 'local', dir: path.resolve(value) };
}

/** A Git URL as BuildKit's ParseGitRef knows one (an http(s) one only with a `.git` path). */
export function isGitContext(value: string): boolean {
  if (/^git@[^:/]+:/.test(value) || /^(git|ssh|git\+ssh):\/\//i.test(value) || value.startsWith('github.com/')) return true;
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    return new URL(value.split('#')[0]).pathname.endsWith('.git');
  } catch {
    return false;
  }
}

export function isRemoteContext(value: string): boolean {
  return isGitContext(value) || /^https?:\/\//i.test(value);
}
