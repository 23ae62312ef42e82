#!/usr/bin/env bash
# The test command (`npm test`). Builds the TypeScript, then runs ava.
# The end-to-end tests must run nbuild as an unprivileged user: when invoked as
# root, the suite re-runs itself as $NBUILD_TEST_USER (default nbuild-test, made
# by scripts/setup-host.sh with a subordinate uid/gid range).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if [ "$(id -u)" = 0 ] && [ -z "${NBUILD_TESTS_AS_ROOT:-}" ]; then
  user="${NBUILD_TEST_USER:-nbuild-test}"
  if ! id "$user" >/dev/null 2>&1; then
    echo "run-tests: user $user does not exist; run 'sudo bash scripts/setup-host.sh' first (or set NBUILD_TESTS_AS_ROOT=1)" >&2
    exit 2
  fi
  home=$(getent passwd "$user" | cut -d: -f6)
  exec runuser -u "$user" -- env HOME="$home" PATH="$PATH" CI="${CI:-}" NBUILD_CONFORMANCE="${NBUILD_CONFORMANCE:-}" npx ava "$@"
fi
exec npx ava "$@"
