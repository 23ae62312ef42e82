// The proxy build args a build gets without asking (docs/cli.md, "Proxies"): per variable, a
// --build-arg of that name (either case) wins, then the `proxies.default` section of Docker's
// config.json (what the docker CLI and buildx inject), then nbuild's own environment (what
// podman/buildah pass by default). They reach RUN through planner/args.ts proxyEnv, which keeps
// them out of cache keys and the history.
import * as fs from 'node:fs';
import { NbuildError } from '../errors.js';
import { dockerConfigFile } from '../registry/auth-config.js';

/** config.json's key for each proxy variable (docker/cli ProxyConfig). */
const CONFIG_KEYS: Record<string, string> = {
  HTTP_PROXY: 'httpProxy',
  HTTPS_PROXY: 'httpsProxy',
  NO_PROXY: 'noProxy',
  FTP_PROXY: 'ftpProxy',
  ALL_PROXY: 'allProxy',
};

/** The proxy variables of `proxies.default` in Docker's config.json, upper-case names. */
export function configProxies(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const file = dockerConfigFile(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new NbuildError('DOCKER_CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new NbuildError('DOCKER_CONFIG', `${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const section = (parsed as { proxies?: { default?: Record<string, unknown> } } | null)?.proxies?.default;
  const out = new Map<string, string>();
  if (section === undefined || section === null) return out;
  if (typeof section !== 'object') throw new NbuildError('DOCKER_CONFIG', `${file}: proxies.default must be an object`);
  for (const [name, key] of Object.entries(CONFIG_KEYS)) {
    const value = section[key];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') throw new NbuildError('DOCKER_CONFIG', `${file}: proxies.default.${key} must be a string`);
    out.set(name, value);
  }
  return out;
}

/**
 * Adds to `buildArgs` the proxy variables it does not name (in either case): from config.json,
 * else from `env` (both spellings as set there; RUN then sees the lower-case one in both).
 * Returns the names added (kept out of the provenance: they are the host's, not the build's).
 */
export function addDefaultProxyArgs(buildArgs: Map<string, string>, env: NodeJS.ProcessEnv = process.env): Set<string> {
  const before = new Set(buildArgs.keys());
  const given = new Set([...buildArgs.keys()].map((k) => k.toUpperCase()));
  const fromConfig = configProxies(env);
  for (const name of Object.keys(CONFIG_KEYS)) {
    if (given.has(name)) continue;
    const configured = fromConfig.get(name);
    if (configured !== undefined) {
      buildArgs.set(name, configured);
      continue;
    }
    for (const spelling of [name, name.toLowerCase()]) {
      const value = env[spelling];
      if (value) buildArgs.set(spelling, value);
    }
  }
  return new Set([...buildArgs.keys()].filter((k) => !before.has(k)));
}
