// The certificates a verifying TLS connection to a registry trusts: Node's own roots, plus those
// of NODE_EXTRA_CA_CERTS. Node before 23 reads and parses that file when it starts, every time,
// whether or not the command makes a TLS connection (~35 ms of each command here, as long as
// `node -e 0` without it). So bin/nbuild hands the path over as NBUILD_EXTRA_CA_CERTS instead,
// main() gives the environment its variable back for the programs nbuild starts, and the file is
// read here when the first verifying connection is made (docs/decisions.md, "Start-up: extra CA
// certificates read on first use").
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';

let deferredFile: string | undefined;
let context: tls.SecureContext | undefined;

/** Takes the path bin/nbuild moved aside and puts NODE_EXTRA_CA_CERTS back (main() calls it first). */
export function takeDeferredCaCerts(env: NodeJS.ProcessEnv = process.env): void {
  const file = env.NBUILD_EXTRA_CA_CERTS;
  delete env.NBUILD_EXTRA_CA_CERTS;
  if (!file) return;
  env.NODE_EXTRA_CA_CERTS = file;
  deferredFile = file;
}

/**
 * Options for a verifying TLS client: nothing when Node loaded NODE_EXTRA_CA_CERTS itself (or
 * none was set), else one secure context with Node's roots and the file's certificates. A file
 * that cannot be read or parsed is ignored with Node's own warning, as Node does.
 */
export function trustOptions(): { secureContext?: tls.SecureContext } {
  if (deferredFile === undefined) return {};
  if (!context) {
    const roots = [...tls.rootCertificates];
    try {
      context = tls.createSecureContext({ ca: [...roots, readFileSync(deferredFile, 'latin1')] });
    } catch (e) {
      process.emitWarning(`Ignoring extra certs from \`${deferredFile}\`, load failed: ${(e as Error).message}`);
      context = tls.createSecureContext({ ca: roots });
    }
  }
  return { secureContext: context };
}
