// Checks credentials the way `docker login` does: ping /v2/, then one authenticated
// request (a token for the registry, or /v2/ with Basic) must succeed.
import { RegistryError } from '../errors.js';
import type { Credentials } from './auth.js';
import { RegistryClient } from './client.js';
import { isLoopback } from './registries-config.js';
import type { RetryPolicy } from './retry.js';

export async function verifyLogin(registry: string, credentials: Credentials, opts: { tlsVerify?: boolean; retry?: RetryPolicy } = {}): Promise<void> {
  const client = new RegistryClient({
    registry,
    credentials,
    insecure: opts.tlsVerify === false || isLoopback(registry),
    retry: opts.retry,
  });
  try {
    await client.checkAuth();
  } catch (err) {
    if (err instanceof RegistryError && (err.status === 401 || err.status === 403)) {
      throw new RegistryError(`login to ${registry} failed: the registry refused the user name or password`, { status: err.status, codes: err.codes });
    }
    throw err;
  }
}
