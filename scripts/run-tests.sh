#!/usr/bin/env bash
# The test command (`npm test`). Builds the TypeScript, then runs ava.
# End-to-end tests must run nbuild as an unprivileged user: when invoked as
# root, the suite re-runs as $NBUILD_TEST_USER (default nbuild-test, made by
# scripts/setup-host.sh with a subordinate uid/gid range). If that user cannot
# read this tree (a clone under /root, say), the tree is copied for it first.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
npx tsc -p tsconfig.json
conformance=${NBUILD_CONFORMANCE:-$here/../shared/conformance}
if [ -d "$conformance" ]; then conformance=$(cd "$conformance" && pwd); fi
if [ "$(id -u)" != 0 ] || [ -n "${NBUILD_TESTS_AS_ROOT:-}" ]; then
  NBUILD_CONFORMANCE="$conformance" exec npx ava "$@"
fi
user="${NBUILD_TEST_USER:-nbuild-test}"
if ! id "$user" >/dev/null 2>&1; then
  echo "run-tests: user $user does not exist; run 'sudo bash scripts/setup-host.sh' first (or set NBUILD_TESTS_AS_ROOT=1)" >&2
  exit 2
fi
home=$(getent passwd "$user" | cut -d: -f6)
as_user() { runuser -u "$user" -- env HOME="$home" PATH="$PATH" CI="${CI:-}" NBUILD_CONFORMANCE="$conformance" "$@"; }
if ! as_user test -r "$here/package.json" -a -x "$here/node_modules/.bin/ava"; then
  copy=$(mktemp -d /tmp/nbuild-tests.XXXXXX)
  cp -a "$here/." "$copy/"
  if [ -d "$conformance" ] && ! as_user test -r "$conformance/README.md"; then
    cp -a "$conformance" "$copy/.conformance"; conformance="$copy/.conformance"
  fi
  chown -R "$user:" "$copy"
  echo "run-tests: $user cannot read $here; running from a copy in $copy"
  here=$copy
fi
cd "$here"
as_user npx ava "$@"
