// OCI platforms (`os/arch[/variant]`): the host's, parsing with Docker's aliases,
// formatting, matching and picking an index entry. One module for the planner, the CLI, the
// registry and the store.
import { NbuildError } from '../errors.js';
import type { Descriptor, Index } from './types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
const ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64' };

/** The platform of this host in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

/** Parses `os/arch[/variant]` (x86_64 = amd64, aarch64 = arm64, arm64 = arm64/v8); undefined when malformed. */
export function parsePlatform(text: string): Platform | undefined {
  const [os, arch, variant, extra] = text.trim().toLowerCase().split('/');
  if (!os || !arch || extra !== undefined) return undefined;
  const architecture = ALIASES[arch] ?? arch;
  const v = architecture === 'arm64' && (variant === undefined || variant === 'v8') ? 'v8' : variant;
  return v ? { os, architecture, variant: v } : { os, architecture };
}

/** containerd's normal form, which Docker's platform ARGs and buildx's progress use: arm64/v8 is arm64. */
export function normalizePlatform(p: Platform): Platform {
  return p.architecture === 'arm64' && p.variant === 'v8' ? { os: p.os, architecture: p.architecture } : p;
}

export function formatPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter((x) => x).join('/');
}

/** Same os and arch, and the same variant when both name one (arm64 entries often omit v8). */
export function platformMatches(want: Platform, got: { os?: string; architecture?: string; variant?: string } | undefined): boolean {
  if (!got || got.os !== want.os || got.architecture !== want.architecture) return false;
  return !want.variant || !got.variant || got.variant === want.variant;
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return platformMatches(a, b) && platformMatches(b, a);
}

/** The platform an image config declares. */
export function platformOf(config: { os?: string; architecture?: string; variant?: string }): Platform {
  const p: Platform = { os: config.os ?? '', architecture: config.architecture ?? '' };
  if (config.variant) p.variant = config.variant;
  return p;
}

/** The platforms an index offers (attestation entries, os "unknown", left out). */
export function indexPlatforms(index: Index): string[] {
  return (index.manifests ?? [])
    .map((d) => d.platform)
    .filter((p) => p && p.os !== 'unknown')
    .map((p) => formatPlatform(p!));
}

/** Picks the entry of `index` for `want`, preferring an exact variant; a clear error names what it offers. */
export function selectManifest(index: Index, want: Platform, what: string): Descriptor {
  const candidates = (index.manifests ?? []).filter((d) => platformMatches(want, d.platform));
  const exact = candidates.find((d) => (d.platform?.variant ?? '') === (want.variant ?? ''));
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const have = indexPlatforms(index);
  throw new NbuildError('PLATFORM_UNAVAILABLE', `${what} has no image for ${formatPlatform(want)} (it has: ${have.join(', ') || 'none'})${samePlatform(want, hostPlatform()) ? '; pass --platform to pull another one' : ''}`);
}
