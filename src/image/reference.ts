// Image references with Docker's normalisation (distribution/reference):
// `busybox` → docker.io/library/busybox:latest, `index.docker.io` → docker.io.
import { UsageError } from '../errors.js';
import { Digest } from './digest.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;

export interface Reference {
  readonly registry: string;
  readonly repository: string;
  /** The tag; `latest` when none was given. */
  readonly tag: string;
  /** Whether the text named a tag (false for `name@sha256:…` and bare names). */
  readonly tagGiven: boolean;
  readonly digest?: string;
  /** Whether the text named the registry (`quay.io/x`, `localhost/x`); `alpine`, `user/app` are short names. */
  readonly qualified: boolean;
  /** Fully qualified: docker.io/library/busybox:latest. */
  toString(): string;
  /** As docker prints it: busybox:latest. */
  familiar(): string;
  /** registry/repository without tag or digest. */
  name(): string;
  /** Repository as docker prints it (busybox, user/app, quay.io/x/y). */
  familiarName(): string;
}

export function parseReference(text: string): Reference {
  const bad = (why: string): never => {
    throw new UsageError(`invalid image reference ${JSON.stringify(text)}: ${why}`);
  };
  if (typeof text !== 'string' || text === '') bad('empty');
  if (text.length > 4096) bad('too long');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!Digest.isValid(digest)) bad('the digest must be sha256:<64 hex digits>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`invalid tag ${JSON.stringify(tag)}`);
  }
  let registry = DEFAULT_REGISTRY;
  let qualified = false;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      qualified = true;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(registry)) bad(`invalid registry ${JSON.stringify(registry)}`);
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = `library/${path}`;
  if (path === '') bad('no repository name');
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) bad(c !== c.toLowerCase() ? 'repository names must be lowercase' : `invalid name component ${JSON.stringify(c)}`);
  }
  if (registry.length + 1 + path.length > 255) bad('name longer than 255 characters');
  return makeReference(registry, path, tag, digest, qualified);
}

function makeReference(registry: string, repository: string, tag: string | undefined, digest: string | undefined, qualified: boolean): Reference {
  const tagGiven = tag !== undefined;
  const t = tag ?? DEFAULT_TAG;
  const suffix = (): string => {
    if (digest && !tagGiven) return `@${digest}`;
    return digest ? `:${t}@${digest}` : `:${t}`;
  };
  const familiarName = (): string => {
    if (registry !== DEFAULT_REGISTRY) return `${registry}/${repository}`;
    return repository.startsWith('library/') && repository.split('/').length === 2 ? repository.slice(8) : repository;
  };
  return Object.freeze({
    registry,
    repository,
    tag: t,
    tagGiven,
    digest,
    qualified,
    toString: () => `${registry}/${repository}${suffix()}`,
    familiar: () => `${familiarName()}${suffix()}`,
    name: () => `${registry}/${repository}`,
    familiarName,
  });
}

/** Whether a string could be a reference (no throw). */
export function isReference(text: string): boolean {
  try {
    parseReference(text);
    return true;
  } catch {
    return false;
  }
}
