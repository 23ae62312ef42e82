// A time as toISOString() writes it (`2026-12-06T05:30:00.123Z`), computed from the epoch
// milliseconds without Date's formatting: the first toISOString() of a process sets up V8's
// date cache and ICU's time zone (0.7-6 ms here, ~1 ms of a no-op build, for a UTC string).
// Days to a civil date: Howard Hinnant's algorithm (proleptic Gregorian, as Date).

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `ms` since the epoch as YYYY-MM-DDTHH:MM:SS.sssZ (years 0 to 9999, as toISOString). */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`isoTime: not a time: ${ms}`);
  const t = Math.trunc(ms); // as Date's TimeClip
  const days = Math.floor(t / 86_400_000);
  const inDay = t - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return new Date(t).toISOString(); // ±YYYYYY: Date's own form
  const h = Math.floor(inDay / 3_600_000);
  const m = Math.floor((inDay % 3_600_000) / 60_000);
  const s = Math.floor((inDay % 60_000) / 1000);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(inDay % 1000, 3)}Z`;
}
