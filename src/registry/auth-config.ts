// Where credentials come from: $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json,
// ~/.docker/config.json (auths, credHelpers, credsStore). Each file is consulted in that order;
// the first that knows the registry wins. Secrets never leave this module except as Credentials.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { NbuildError } from '../errors.js';
import type { Credentials } from './auth.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

/** authFilePaths lists the files read, first match wins. */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  const home = env.HOME || os.homedir();
  const xdgConfig = env.XDG_CONFIG_HOME || path.join(home, '.config');
  out.push(path.join(xdgConfig, 'containers', 'auth.json'));
  out.push(dockerConfigFile(env));
  return out;
}

/** Docker's client configuration: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker'), 'config.json');
}

/** defaultAuthFile is where `nbuild login` writes: $REGISTRY_AUTH_FILE, else podman's runtime auth.json,
 *  else Docker's config (which every other tool also reads). */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR && fs.existsSync(env.XDG_RUNTIME_DIR)) return path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return dockerConfigFile(env);
}

/** authKeys are the keys a file may use for `registry/repository`, most specific first (containers'
 *  auth.json allows per-namespace keys); Docker Hub also has its historic v1 URL. */
export function authKeys(registry: string, repository?: string): string[] {
  const keys: string[] = [];
  if (repository) {
    const parts = repository.split('/');
    for (let n = parts.length; n > 0; n--) keys.push(`${registry}/${parts.slice(0, n).join('/')}`);
  }
  keys.push(registry);
  if (registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

/** normaliseKey turns `https://host/v1/` into `host` so hand-written files still match. */
function normaliseKey(key: string): string {
  if (key === 'https://index.docker.io/v1/') return key;
  return key.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '').replace(/\/v[12]$/, '');
}

export async function readAuthFile(file: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NbuildError('AUTH_FILE', `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as AuthFile;
  } catch (err) {
    // The parse error could quote the file's content (a secret); say only where.
    throw new NbuildError('AUTH_FILE', `${file} is not valid JSON`);
  }
}

/** lookupCredentials finds credentials for `registry` (and optionally the repository), or undefined. */
export async function lookupCredentials(registry: string, repository?: string, files: string[] = authFilePaths()): Promise<Credentials | undefined> {
  const keys = authKeys(registry, repository);
  for (const file of files) {
    const data = await readAuthFile(file);
    if (!data) continue;
    const helpers = data.credHelpers ?? {};
    for (const key of keys) {
      if (helpers[key]) return credentialHelperGet(helpers[key], key);
    }
    const auths = new Map(Object.entries(data.auths ?? {}).map(([k, v]) => [normaliseKey(k), v]));
    for (const key of keys) {
      const entry = auths.get(normaliseKey(key));
      const creds = entry && decodeEntry(entry, file);
      if (creds) return creds;
    }
    if (data.credsStore) {
      const creds = await credentialHelperGet(data.credsStore, registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry, true);
      if (creds) return creds;
    }
  }
  return undefined;
}

function decodeEntry(e: AuthEntry, file: string): Credentials | undefined {
  if (e.identitytoken) return { identityToken: e.identitytoken, username: e.username };
  if (e.registrytoken) return { registryToken: e.registrytoken };
  if (e.auth) {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new NbuildError('AUTH_FILE', `${file}: an "auth" entry is not base64 of user:password`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (e.username && e.password !== undefined) return { username: e.username, password: e.password };
  return undefined;
}

interface HelperAnswer {
  Username?: string;
  Secret?: string;
}

/** credentialHelperGet runs `docker-credential-NAME get` with the server on stdin. A helper that does not
 *  know the server answers "credentials not found": that is undefined, not an error, when `optional`. */
export async function credentialHelperGet(name: string, server: string, optional = false): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr } = await runHelper(program, ['get'], server);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    if (optional && code === -1) return undefined;
    throw new NbuildError('CREDENTIAL_HELPER', `${program} get failed for ${server} (exit ${code})`);
  }
  let answer: HelperAnswer;
  try {
    answer = JSON.parse(stdout) as HelperAnswer;
  } catch {
    throw new NbuildError('CREDENTIAL_HELPER', `${program} get answered something that is not JSON`);
  }
  if (!answer.Secret) return undefined;
  // Helpers mark identity tokens with the user name "<token>" (docker-credential-helpers).
  if (answer.Username === '<token>') return { identityToken: answer.Secret };
  return { username: answer.Username, password: answer.Secret };
}

function runHelper(program: string, args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', () => resolve({ code: -1, stdout, stderr: `${program} not found` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** storeCredentials writes (or, with `undefined`, removes) the entry for `key` in `file`, keeping every other
 *  field. Written as 0600 via a temp file and rename. Returns whether an entry was removed/changed. */
export async function storeCredentials(file: string, key: string, creds: { username: string; password: string } | undefined): Promise<boolean> {
  const data: AuthFile = (await readAuthFile(file)) ?? {};
  const auths = { ...(data.auths ?? {}) };
  const existing = Object.keys(auths).filter((k) => normaliseKey(k) === normaliseKey(key));
  for (const k of existing) delete auths[k];
  if (creds) auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  if (!creds && existing.length === 0) return false;
  data.auths = auths;
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, `${JSON.stringify(data, null, '\t')}\n`, { mode: 0o600 });
  await fsp.rename(tmp, file);
  return true;
}

/** loginKey is the key `nbuild login` writes for a registry (Docker Hub keeps its v1 URL, as docker does). */
export function loginKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}
