// The registry flags build, pull and push share (as buildah and skopeo spell them).
import type { Options } from 'yargs';
import type { SessionOptions } from '../registry/session.js';
import { UsageError } from '../errors.js';

export const registryOptions = {
  'tls-verify': { type: 'boolean', default: true, describe: 'require HTTPS with a valid certificate (false: plain HTTP / self-signed allowed)' },
  authfile: { type: 'string', describe: 'credentials file to read (default $REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json)' },
  creds: { type: 'string', describe: 'USER[:PASSWORD] for every registry this command talks to' },
} satisfies Record<string, Options>;

export interface RegistryArgs {
  'tls-verify': boolean;
  authfile?: string;
  creds?: string;
}

export function sessionOptions(args: RegistryArgs): SessionOptions {
  const out: SessionOptions = { tlsVerify: args['tls-verify'] };
  if (args.authfile) out.authFiles = [args.authfile];
  if (args.creds !== undefined) {
    const colon = args.creds.indexOf(':');
    const username = colon < 0 ? args.creds : args.creds.slice(0, colon);
    if (!username) throw new UsageError('--creds: expected USER[:PASSWORD]');
    out.credentials = { username, password: colon < 0 ? '' : args.creds.slice(colon + 1) };
  }
  return out;
}
