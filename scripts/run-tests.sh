#!/usr/bin/env bash
# The test command (`npm test`). Builds the TypeScript, then runs ava.
# End-to-end tests must run nbuild as an unprivileged user: when invoked as
# root, the suite re-runs as $NBUILD_TEST_USER (default nbuild-test, made by
# scripts/setup-host.sh with a subordinate uid/gid range). If that user cannot
# read this tree (a clone under /root, say), the tree is copied for it first.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
if [ "${1:-}" = --no-build ]; then shift; else npx tsc -p tsconfig.json && node scripts/bundle.mjs; fi
conformance=${NBUILD_CONFORMANCE:-$here/../shared/conformance}
if [ -d "$conformance" ]; then conformance=$(cd "$conformance" && pwd); fi
if [ "$(id -u)" != 0 ] || [ -n "${NBUILD_TESTS_AS_ROOT:-}" ]; then
  # The tests' temp stores hold files with subordinate owners: remove them afterwards from
  # inside a user namespace (util-linux maps the same ranges nbuild does).
  marker=$(mktemp "${TMPDIR:-/tmp}/nbuild-test-run.XXXXXX")
  status=0
  log="$marker.log"
  { NBUILD_CONFORMANCE="$conformance" npx ava "$@" 2>&1 && echo 0 > "$log.status" || echo $? > "$log.status"; } | tee "$log"
  status=$(cat "$log.status")
  # One plain closing line that any CI reader understands.
  count() { grep -oE "^ +[0-9]+ (tests?|known failures?) $1" "$log" | grep -oE '[0-9]+' | head -1 || true; }
  passed=$(count passed); failed=$(count failed); skipped=$(count skipped)
  echo "ava: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
  rm -f "$log" "$log.status"
  mapfile -t left < <(find "${TMPDIR:-/tmp}" -maxdepth 1 -user "$(id -u)" -newer "$marker" -name 'nb*' 2>/dev/null)
  if [ ${#left[@]} -gt 0 ]; then
    unshare --map-root-user --map-auto rm -rf "${left[@]}" 2>/dev/null || rm -rf "${left[@]}" 2>/dev/null || true
  fi
  rm -f "$marker"
  exit $status
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
exec runuser -u "$user" -- env HOME="$home" PATH="$PATH" CI="${CI:-}" NBUILD_CONFORMANCE="$conformance" NBUILD_TESTS_AS_ROOT= bash "$here/scripts/run-tests.sh" --no-build "$@"
