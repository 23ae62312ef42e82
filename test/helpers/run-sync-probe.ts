// The probe of the run-sync tests (test/behaviour/run-sync.test.ts, test/e2e/run-sync-cli.test.ts):
// a shell line that tells whether fsync & co. really run in a RUN step or `nbuild run`.
// One line per probe, each `NAME=RESULT`, so a failure message shows everything.
export const PROBE = [
  // fsync(2) on a pipe (dd's stdout): EINVAL when it runs, 0 when skipped.
  'echo x | dd conv=fsync 2>/tmp/dd.err | cat >/dev/null; grep -q "Invalid argument" /tmp/dd.err && echo pipe-fsync=EINVAL || echo pipe-fsync=ok',
  // sync(2), syncfs(2) (`sync -f FILE`), fdatasync(2) (`sync -d FILE`): succeed either way.
  'sync && echo sync=ok || echo sync=fail',
  'echo data >/tmp/f && sync -f /tmp/f && echo syncfs=ok || echo syncfs=fail',
  'echo data >/tmp/g && sync -d /tmp/g && echo fdatasync=ok || echo fdatasync=fail',
  'echo filter=$(grep "^Seccomp:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
  'echo nnp=$(grep "^NoNewPrivs:" /proc/self/status | tr -d "\\t" | cut -d: -f2)',
].join('; ');

/** The probe's `NAME=RESULT` lines of a plain progress log (`#N NAME=RESULT`). */
export function probeResults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^#\d+ ([a-z-]+)=(\S*)$/gm)) out[m[1]] = m[2];
  return out;
}
