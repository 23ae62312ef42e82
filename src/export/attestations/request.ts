// What `--attest`, `--provenance` and `--sbom` ask for, with buildx's spelling
// (docs.docker.com/reference/cli/docker/buildx/build/#attest): `--attest type=provenance,mode=max`,
// `--provenance=true|false|mode=max,…` (= `--attest type=provenance,…`), `--sbom=true|false`
// (= `--attest type=sbom`). Every key either does what buildx documents or is refused by name.
import { UsageError } from '../../errors.js';

export interface ProvenanceRequest {
  /** min: no build args, labels or secret ids in the parameters (buildx's default); max: all of them. */
  mode: 'min' | 'max';
  /** `builder-id=`: the predicate's builder.id (build-push-action passes the workflow run URL). */
  builderId?: string;
  /** `reproducible=true`: the build claims to be reproducible (metadata.reproducible). */
  reproducible: boolean;
}

/** An SBOM of the packages the image's package databases list (nbuild reads them itself). */
export type SbomRequest = Record<string, never>;

export interface AttestRequest {
  provenance?: ProvenanceRequest;
  sbom?: SbomRequest;
}

const PROVENANCE_KEYS = ['type', 'mode', 'builder-id', 'version', 'inline-only', 'disabled', 'reproducible'];
const SBOM_KEYS = ['type', 'disabled'];
const REFUSED: Record<string, string> = {
  generator: 'nbuild reads the package databases itself (dpkg, apk); no scanner image is run',
  'scan-context': 'only the final image is scanned',
  'scan-stage': 'only the final image is scanned',
  'capture-usage': 'no resource usage is recorded',
  'complete-materials': 'the materials are never complete (the build context is a local folder)',
  filename: 'attestations are written into image outputs only',
};

/** The attestations of a build, or undefined when none is asked for. */
export function parseAttestations(opts: { attest?: readonly string[]; provenance?: string; sbom?: string }): AttestRequest | undefined {
  const specs: string[] = [...(opts.attest ?? [])];
  // --provenance / --sbom come first; a later --attest of the same type wins (as buildx's map).
  if (opts.provenance !== undefined) specs.unshift(shorthand('provenance', opts.provenance));
  if (opts.sbom !== undefined) specs.unshift(shorthand('sbom', opts.sbom));
  const out: AttestRequest = {};
  for (const spec of specs) {
    const fields = keyValues(spec);
    const type = fields.get('type');
    if (type !== 'provenance' && type !== 'sbom') throw new UsageError(`--attest ${spec}: type must be provenance or sbom`);
    const allowed = type === 'provenance' ? PROVENANCE_KEYS : SBOM_KEYS;
    for (const key of fields.keys()) {
      if (allowed.includes(key)) continue;
      throw new UsageError(`--attest ${key}=…: not supported by nbuild${REFUSED[key] ? `: ${REFUSED[key]}` : ` for type=${type} (${allowed.join(', ')})`}`);
    }
    if (bool(fields, 'disabled', spec)) {
      delete out[type];
      continue;
    }
    if (type === 'sbom') {
      out.sbom = {};
      continue;
    }
    const mode = fields.get('mode') ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw new UsageError(`--attest ${spec}: mode must be min or max`);
    const version = fields.get('version') ?? 'v0.2';
    if (version !== 'v0.2') throw new UsageError(`--attest version=${version}: not supported by nbuild: only SLSA provenance v0.2 (buildx's default) is written`);
    // inline-only: attach to image outputs only, which is the only place nbuild writes attestations.
    bool(fields, 'inline-only', spec);
    out.provenance = { mode, builderId: fields.get('builder-id') || undefined, reproducible: bool(fields, 'reproducible', spec) };
  }
  return out.provenance || out.sbom ? out : undefined;
}

/** `--provenance VALUE` / `--sbom VALUE` → the `--attest` spec it stands for. */
function shorthand(type: 'provenance' | 'sbom', value: string): string {
  if (value === '' || /^(true|1)$/i.test(value)) return `type=${type}`;
  if (/^(false|0)$/i.test(value)) return `type=${type},disabled=true`;
  if (!value.includes('=')) throw new UsageError(`--${type} ${value}: expected true, false or key=value,…`);
  return `type=${type},${value}`;
}

function keyValues(spec: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--attest ${spec}: "${part}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return fields;
}

function bool(fields: Map<string, string>, key: string, spec: string): boolean {
  const v = fields.get(key);
  if (v === undefined) return false;
  if (/^(true|1|)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw new UsageError(`--attest ${spec}: ${key}=${v} is not true or false`);
}
