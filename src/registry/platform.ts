// Picking one image out of a multi-platform index, and telling the user clearly when
// an image is for another platform.
import { NbuildError } from '../errors.js';
import { hostPlatform } from '../image/image.js';
import type { Descriptor, Index } from '../image/types.js';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export { hostPlatform };

/** parsePlatform reads `os/arch[/variant]` (as --platform takes it). */
export function parsePlatform(text: string): PlatformSpec {
  const [os, architecture, variant, extra] = text.trim().toLowerCase().split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new NbuildError('USAGE', `invalid platform ${JSON.stringify(text)}: want os/arch[/variant], e.g. linux/amd64`, { exitCode: 2 });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter((x) => x).join('/');
}

/** platformMatches: same os and arch, and the same variant when both name one. */
export function platformMatches(want: PlatformSpec, got: { os?: string; architecture?: string; variant?: string } | undefined): boolean {
  if (!got || got.os !== want.os || got.architecture !== want.architecture) return false;
  // A missing variant matches any (arm64 entries often omit v8); selectManifest prefers exact ones.
  return !want.variant || !got.variant || got.variant === want.variant;
}

/** selectManifest picks the entry of `index` for `want`, preferring an exact variant. */
export function selectManifest(index: Index, want: PlatformSpec, what: string): Descriptor {
  const candidates = (index.manifests ?? []).filter((d) => platformMatches(want, d.platform));
  const exact = candidates.find((d) => (d.platform?.variant ?? '') === (want.variant ?? ''));
  const chosen = exact ?? candidates[0];
  if (chosen) return chosen;
  const have = (index.manifests ?? [])
    .map((d) => d.platform)
    .filter((p) => p && p.os !== 'unknown')
    .map((p) => formatPlatform(p!));
  throw new NbuildError('PLATFORM_UNAVAILABLE', `${what} has no image for ${formatPlatform(want)} (it has: ${have.join(', ') || 'none'})${samePlatform(want, hostPlatform()) ? '; pass --platform to pull another one' : ''}`);
}

export function samePlatform(a: PlatformSpec, b: PlatformSpec): boolean {
  return platformMatches(a, b) && platformMatches(b, a);
}

/** checkImagePlatform refuses a single-platform image made for another platform than wanted. */
export function checkImagePlatform(config: { os?: string; architecture?: string; variant?: string }, want: PlatformSpec, what: string): void {
  if (platformMatches(want, config)) return;
  const host = hostPlatform();
  const runsHere = platformMatches(host, config);
  throw new NbuildError('PLATFORM_MISMATCH', `${what} is a ${formatPlatform(config)} image, not ${formatPlatform(want)}${runsHere ? '' : ` (it cannot run on this ${formatPlatform(host)} host)`}; pass --platform ${formatPlatform(config)} to pull it anyway`);
}
