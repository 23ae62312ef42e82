// Attestations of a build (--attest, --provenance, --sbom): for each built image, the in-toto
// statements asked for, stored as an attestation manifest beside it (manifest.ts), and the image
// index that lists both. Only image outputs carry them (outputs.ts checks before the build).
import type { Image } from '../../image/image.js';
import type { Store } from '../../store/store.js';
import { openRootfsView } from '../../snapshot/rootfs-view.js';
import { nbuildVersion } from '../../package-root.js';
import { attestationImage, statement, subjectsOf, type Statement } from './manifest.js';
import { provenancePredicate, SLSA_PROVENANCE_V02, type ProvenanceInput } from './provenance.js';
import { scanPackages } from './package-db.js';
import { spdxDocument, SPDX_PREDICATE } from './sbom.js';
import type { AttestRequest } from './request.js';

import { UsageError } from '../../errors.js';
import type { OutputSpec } from '../outputs.js';

export { parseAttestations, type AttestRequest } from './request.js';
export { indexWithAttestations } from './manifest.js';

export interface AttestContext {
  request: AttestRequest;
  names: readonly string[];
  /** The provenance facts of the image's platform (everything but the request and the finish time). */
  provenance: (image: Image) => Omit<ProvenanceInput, 'request' | 'finishedOn'>;
  /** For the SBOM's creation time: the build's --timestamp / SOURCE_DATE_EPOCH, else now. */
  timestamp?: number;
  warn: (message: string) => void;
}

/** The attestation manifest of each image (stored), keyed by the image. */
export async function attestImages(store: Store, images: readonly Image[], ctx: AttestContext): Promise<Map<Image, Image>> {
  const out = new Map<Image, Image>();
  for (const image of images) {
    const subject = subjectsOf(image, ctx.names);
    const statements: Statement[] = [];
    if (ctx.request.sbom) statements.push(statement(SPDX_PREDICATE, await sbomOf(store, image, ctx), subject));
    if (ctx.request.provenance) {
      const predicate = provenancePredicate({ ...ctx.provenance(image), request: ctx.request.provenance, finishedOn: new Date() });
      statements.push(statement(SLSA_PROVENANCE_V02, predicate, subject));
    }
    out.set(image, await attestationImage(store, statements));
  }
  return out;
}

async function sbomOf(store: Store, image: Image, ctx: AttestContext): Promise<Record<string, unknown>> {
  const scratch = await store.tempDir('sbom');
  try {
    const view = await openRootfsView(await store.lowerDirs(image.layers), scratch);
    try {
      const scan = await scanPackages(view.dir);
      for (const db of scan.unread) ctx.warn(`--sbom: ${db} is an rpm database, which nbuild does not read: its packages are not in the SBOM`);
      const created = ctx.timestamp !== undefined ? new Date(ctx.timestamp * 1000) : new Date();
      return spdxDocument({ scan, imageId: image.configDigest.toString(), tool: `nbuild-${nbuildVersion()}`, created });
    } finally {
      await view.release();
    }
  } finally {
    await store.removeTempDir(scratch);
  }
}

/**
 * Attestations go into image outputs (oci, oci-layout, image/registry, the store). A docker archive
 * has no place for them: buildx refuses `--load`/type=docker with attestations too (buildx#1511,
 * "docker exporter does not currently support exporting manifest lists"). Local and tar outputs
 * would need BuildKit's file attestations, which nbuild does not write: refused before the build.
 */
export function checkAttestationOutputs(outputs: readonly OutputSpec[]): void {
  for (const out of outputs) {
    if (out.type === 'docker') throw new UsageError('--attest/--provenance/--sbom: a docker archive (type=docker, --load) holds no attestations; use type=oci, type=oci-layout or type=registry, or --provenance=false');
    if (out.type === 'local' || out.type === 'tar') throw new UsageError(`--attest/--provenance/--sbom: attestations are written into image outputs only, not into type=${out.type}; use type=oci, type=oci-layout or type=registry`);
  }
}
