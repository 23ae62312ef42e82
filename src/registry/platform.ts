// Picking one image out of a multi-platform index, and telling the user clearly when
// an image is for another platform.
import { NbuildError } from '../errors.js';
import { formatPlatform, hostPlatform, parsePlatform as parseOptional, platformMatches, samePlatform, selectManifest, type Platform } from '../image/platform.js';

export type PlatformSpec = Platform;
export { formatPlatform, hostPlatform, platformMatches, samePlatform, selectManifest };

/** parsePlatform reads `os/arch[/variant]` as --platform takes it; malformed text is a usage error. */
export function parsePlatform(text: string): PlatformSpec {
  const p = parseOptional(text);
  if (!p) throw new NbuildError('USAGE', `invalid platform ${JSON.stringify(text)}: want os/arch[/variant], e.g. linux/amd64`, { exitCode: 2 });
  return p;
}

/** checkImagePlatform refuses a single-platform image made for another platform than wanted. */
export function checkImagePlatform(config: { os?: string; architecture?: string; variant?: string }, want: PlatformSpec, what: string): void {
  if (platformMatches(want, config)) return;
  const host = hostPlatform();
  const runsHere = platformMatches(host, config);
  throw new NbuildError('PLATFORM_MISMATCH', `${what} is a ${formatPlatform(config)} image, not ${formatPlatform(want)}${runsHere ? '' : ` (it cannot run on this ${formatPlatform(host)} host)`}; pass --platform ${formatPlatform(config)} to pull it anyway`);
}
