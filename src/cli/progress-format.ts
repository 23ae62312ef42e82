// Text shared by the plain and tty progress displays: byte counts as BuildKit prints them
// (tonistiigi/units: decimal, "45.60MB"), blob status lines and the build's summary line.
import type { BuildEvent } from '../executor/events.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 999 → "999B", 45600000 → "45.60MB" (BuildKit's `%.2f` of units.Bytes). */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${Math.round(v)}B` : `${v.toFixed(2)}${UNITS[u]}`;
}

/** sha256:0123456789ab (the short form BuildKit's tty shows for image ids). */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : `${digest.slice(0, colon)}:${digest.slice(colon + 1, colon + 13)}`;
}

type BlobEvent = Extract<BuildEvent, { type: 'blob' }>;
type SummaryEvent = Extract<BuildEvent, { type: 'build-done' }>;

const NOTES = { cached: 'already in the store', exists: 'already in the registry', mounted: 'mounted' } as const;

/**
 * What follows a blob's digest: `12.30MB / 45.60MB` (with the rate in tty mode), then the time and
 * `done` once it is complete, or what settled it without moving bytes.
 */
export function blobStatus(e: BlobEvent, withRate: boolean): string {
  if (e.note) return `${formatBytes(e.total)} ${NOTES[e.note]}`;
  const bytes = e.total > 0 ? `${formatBytes(e.current)} / ${formatBytes(e.total)}` : formatBytes(e.current);
  const rate = withRate && !e.done && e.seconds >= 0.2 ? ` ${formatBytes(e.current / e.seconds)}/s` : '';
  // As BuildKit: no time until there is one to show.
  const time = e.seconds > 0.01 ? ` ${e.seconds.toFixed(1)}s` : '';
  return `${bytes}${rate}${time}${e.done ? ' done' : ''}`;
}

/** `FINISHED 3.2s  sha256:0123456789ab  12.30MB  cached 4/7` (docs/cli.md, "Progress"). */
export function summaryLine(e: SummaryEvent): string {
  return `FINISHED ${e.seconds.toFixed(1)}s  ${shortDigest(e.imageId)}  ${formatBytes(e.size)}  cached ${e.cached}/${e.steps}`;
}

/** blobStatus, then shorter forms of it for a narrow terminal (the time and `done` are kept longest). */
export function blobStatusForms(e: BlobEvent): string[] {
  if (e.note) return [blobStatus(e, false), formatBytes(e.total), ''];
  const time = e.seconds > 0.01 ? `${e.seconds.toFixed(1)}s` : '';
  const end = [time, e.done ? 'done' : ''].filter(Boolean).join(' ');
  return [blobStatus(e, true), blobStatus(e, false), [formatBytes(e.current), end].filter(Boolean).join(' '), end];
}
