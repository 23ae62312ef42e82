// Picking one image out of a multi-platform index, and telling the user clearly when
// an image is for another platform.
import { NbuildError } from '../errors.js';
import type { Descriptor, Index } from '../image/types.js';
import { formatPlatform, hostPlatform, parsePlatform as parseOptional, platformMatches, samePlatform, type Platform } from '../image/platform.js';

export type PlatformSpec = Platform;
export { formatPlatform, hostPlatform, platformMatches, samePlatform };

/** parsePlatform reads `os/arch[/variant]` as --platform takes it; malformed text is a usage error. */
export function parsePlatform(text: string): PlatformSpec {
  const p = parseOptional(text);
  if (!p) throw new NbuildError('USAGE', `invalid platform ${JSON.stringify(text)}: want os/arch[/variant], e.g. linux/amd64`, { exitCode: 2 });
  return p;
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

/** checkImagePlatform refuses a single-platform image made for another platform than wanted. */
export function checkImagePlatform(config: { os?: string; architecture?: string; variant?: string }, want: PlatformSpec, what: string): void {
  if (platformMatches(want, config)) return;
  const host = hostPlatform();
  const runsHere = platformMatches(host, config);
  throw new NbuildError('PLATFORM_MISMATCH', `${what} is a ${formatPlatform(config)} image, not ${formatPlatform(want)}${runsHere ? '' : ` (it cannot run on this ${formatPlatform(host)} host)`}; pass --platform ${formatPlatform(config)} to pull it anyway`);
}
