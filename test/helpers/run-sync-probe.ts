// The probe of the run-sync tests (test/behaviour/run-sync.test.ts, test/e2e/run-sync-cli.test.ts):
// a shell line that tells whether fsync & co. really run in a RUN step or `nbuild run`.
// One line per probe, each `NAME=RESULT`, so a failure message shows everything.
import * as os from 'node:os';

export const PROBE = [
  // fsync(2) on a pipe (dd's stdout): EINVAL when it runs, 0 when skipped.
  'echo x | dd conv=fsync 2>/tmp/dd.err | cat >/dev/null; grep -q "Invalid argument" /tmp/dd.err && echo pipe-fsync=EINVAL || echo pipe-fsync=ok',
  // sync(2), syncfs(2) (`sync -f FILE`), fdatasync(2) (`sync -d FILE`): succeed either way.
  'sync && echo sync=ok || echo sync=fail',
  'echo data >/tmp/f && sync -f /tmp/f && echo syncfs=ok || echo syncfs=fail',
  'echo data >/tmp/g && sync -d /tmp/g && echo fdatasync=ok || echo fdatasync=fail',
  // Seccomp mode 2 always (the namespace filter, docs/security.md); Seccomp_filters (Linux 5.9+)
  // counts 2 with the sync filter on top, 1 without.
  'echo filter=$(grep "^Seccomp:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
  'echo filters=$(grep "^Seccomp_filters:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
  'echo nnp=$(grep "^NoNewPrivs:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
].join('; ');

// Seccomp_filters is in /proc/PID/status from Linux 5.9; before, the line (and the value) is empty.
const [major = 0, minor = 0] = os.release().split('.').map(Number);
/** What the probe's `filters=` shows for `n` filters on this kernel. */
export const FILTERS = (n: number): string => (major > 5 || (major === 5 && minor >= 9) ? String(n) : '');

/** The probe's `NAME=RESULT` lines of a plain progress log (`#N NAME=RESULT`). */
export function probeResults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^#\d+ ([a-z-]+)=(\S*)$/gm)) out[m[1]] = m[2];
  return out;
}
