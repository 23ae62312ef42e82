// The SLSA provenance v0.2 predicate BuildKit writes for a Dockerfile build
// (solver/llbsolver/provenance: NewPredicate, ConvertToSLSA02; docs.docker.com/build/metadata/attestations/slsa-provenance/).
// nbuild has no LLB: max mode carries the Dockerfile itself as the build's source
// (BuildKit's metadata.source.infos) instead of an llbDefinition.
import type { ProvenanceRequest } from './request.js';
import { dockerPurl } from './manifest.js';
import { randomHex } from '../../native/index.js';

export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const BUILDKIT_BUILD_TYPE = 'https://mobyproject.org/buildkit@v1';
const BUILDKIT_METADATA = 'https://mobyproject.org/buildkit@v1#metadata';

export interface BaseImageMaterial {
  /** The FROM reference as written (resolved by the build). */
  ref: string;
  /** The platform the base was taken for (`linux/amd64`). */
  platform: string;
  /** The manifest digest the build used. */
  digest: string;
}

export interface ProvenanceInput {
  request: ProvenanceRequest;
  /** The Dockerfile's name as buildx sends it (`filename`): configSource.entryPoint. */
  dockerfileName: string;
  dockerfileText: string;
  buildArgs: ReadonlyMap<string, string>;
  labels: ReadonlyMap<string, string>;
  target?: string;
  secretIds: readonly string[];
  noCache: boolean;
  network: 'default' | 'host' | 'none';
  extraHosts: readonly string[];
  shmSize?: number;
  materials: readonly BaseImageMaterial[];
  /** The builder's platform (`linux/amd64`). */
  builderPlatform: string;
  startedOn: Date;
  finishedOn: Date;
}

export function provenancePredicate(p: ProvenanceInput): Record<string, unknown> {
  const max = p.request.mode === 'max';
  // The frontend attributes buildx sends for these flags (host-specific ones, such as platform, left out).
  const args: Record<string, string> = {};
  let scrubbed = false;
  for (const [k, v] of p.buildArgs) {
    if (max) args[`build-arg:${k}`] = v;
    else scrubbed = true;
  }
  for (const [k, v] of p.labels) {
    if (max) args[`label:${k}`] = v;
    else scrubbed = true;
  }
  if (p.target) args.target = p.target;
  if (p.noCache) args['no-cache'] = '';
  if (p.network !== 'default') args['force-network-mode'] = p.network;
  if (p.extraHosts.length) args['add-hosts'] = p.extraHosts.map((l) => l.split('\t').reverse().join('=')).join(',');
  if (p.shmSize !== undefined) args['shm-size'] = String(p.shmSize);
  const parameters: Record<string, unknown> = { frontend: 'dockerfile.v0' };
  if (Object.keys(args).length) parameters.args = args;
  if (max && p.secretIds.length) parameters.secrets = p.secretIds.map((id) => ({ id }));
  if (!max && p.secretIds.length) scrubbed = true;
  // The context and the Dockerfile are local folders: named, not digested, so materials are incomplete.
  parameters.locals = [{ name: 'context' }, { name: 'dockerfile' }];
  const buildkitMetadata: Record<string, unknown> = {};
  if (max) buildkitMetadata.source = { infos: [{ filename: p.dockerfileName, language: 'Dockerfile', data: Buffer.from(p.dockerfileText).toString('base64') }] };
  const predicate: Record<string, unknown> = {
    builder: { id: p.request.builderId ?? '' },
    buildType: BUILDKIT_BUILD_TYPE,
    materials: p.materials.map((m) => ({ uri: dockerPurl(m.ref, m.platform), digest: { sha256: m.digest.replace(/^sha256:/, '') } })),
    invocation: {
      configSource: { entryPoint: p.dockerfileName },
      parameters,
      environment: { platform: p.builderPlatform },
    },
    metadata: {
      buildInvocationID: randomHex(13).slice(0, 25),
      buildStartedOn: p.startedOn.toISOString(),
      buildFinishedOn: p.finishedOn.toISOString(),
      completeness: { parameters: !scrubbed, environment: true, materials: false },
      reproducible: p.request.reproducible,
      [BUILDKIT_METADATA]: buildkitMetadata,
    },
  };
  if (p.materials.length === 0) delete predicate.materials;
  return predicate;
}
