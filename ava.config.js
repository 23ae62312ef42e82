// ava's two test sets (scripts/run-tests.sh runs both; docs/design.md "Tests"):
// - the user-namespace set (ava.userns.config.js): behaviour tests that call the API (src/index.ts).
//   Building needs the process to be root of a user namespace, and ava's workers cannot re-exec
//   themselves per test, so run-tests.sh starts ava itself inside one through the native launcher.
// - this default set: everything else, run as the plain user; CLI tests spawn bin/nbuild.
export const USERNS_DIRS = ['dist/test/buildkit/', 'dist/test/behaviour/'];

export const common = { cache: false, timeout: '5m', concurrency: 2, workerThreads: false };

export default {
  ...common,
  files: ['dist/test/**/*.test.js', ...USERNS_DIRS.map((dir) => `!${dir}**`)],
};
