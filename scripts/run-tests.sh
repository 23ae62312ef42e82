#!/usr/bin/env bash
# The test command (`npm test`). Builds the TypeScript, then runs ava: the user-namespace set
# (ava.userns.config.js: behaviour tests calling the API, ava started inside a user namespace)
# and the rest (ava.config.js), outside it.
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
  # Two sets (ava.config.js, docs/design.md "Tests"): behaviour tests that call the API run with
  # ava started inside a user namespace by the native launcher (still as this user, root of the
  # namespace); the rest, CLI tests among them, run outside it. Named files go to their set.
  read -r -a userns_dirs < <(node -e 'import("./ava.config.js").then((m) => console.log(m.USERNS_DIRS.join(" ")))')
  options=() plain_files=() userns_files=()
  for arg in "$@"; do
    case $arg in
      -*) options+=("$arg") ;;
      *.js)
        set_of=plain
        for dir in "${userns_dirs[@]}"; do case ${arg#./} in "$dir"*) set_of=userns ;; esac; done
        if [ $set_of = userns ]; then userns_files+=("$arg"); else plain_files+=("$arg"); fi ;;
      *) options+=("$arg") ;;
    esac
  done
  run_plain=1 run_userns=1
  if [ $(( ${#plain_files[@]} + ${#userns_files[@]} )) -gt 0 ]; then
    [ ${#plain_files[@]} -gt 0 ] || run_plain=0
    [ ${#userns_files[@]} -gt 0 ] || run_userns=0
  fi
  log="$marker.log"
  : > "$log"
  status=0
  run_ava() {  # $1: the log of this run; then the command
    local one=$1; shift
    { NBUILD_CONFORMANCE="$conformance" "$@" 2>&1 && echo 0 > "$one.status" || echo $? > "$one.status"; } | tee "$one"
    local s; s=$(cat "$one.status"); rm -f "$one.status"
    cat "$one" >> "$log"; rm -f "$one"
    [ "$s" = 0 ] || status=$s
  }
  if [ $run_plain = 1 ]; then
    run_ava "$log.plain" npx ava "${options[@]}" "${plain_files[@]}"
  fi
  if [ $run_userns = 1 ]; then
    # The launcher bin/nbuild uses, found as nbuild finds its native files (src/native/location.ts).
    launcher=$(node --input-type=module -e 'const m = await import("./dist/src/native/location.js"); console.log(m.nativeFiles().helper)' 2>/dev/null || true)
    if [ ! -x "$launcher" ]; then
      echo "run-tests: no nbuild-sandbox launcher (${launcher:-none found}): build the native part first (npm run build:native)" >&2
      status=2
    else
      echo "run-tests: the user-namespace set (${userns_dirs[*]}): ava inside a user namespace"
      # NBUILD_TEST_OUTER_UID: who made the namespace, for the test that checks where it runs.
      run_ava "$log.userns" env NBUILD_TEST_OUTER_UID="$(id -u)" "$launcher" launch --userns -- \
        "$here/node_modules/.bin/ava" --config ava.userns.config.js "${options[@]}" "${userns_files[@]}"
    fi
  fi
  # One plain closing line that any CI reader understands (both sets summed).
  count() { awk -v what="$1" '$0 ~ "^ +[0-9]+ (tests?|known failures?) " what { n += $1 } END { print n + 0 }' "$log"; }
  passed=$(count passed); failed=$(count failed); skipped=$(count skipped)
  echo "ava: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
  rm -f "$log"
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
exec runuser -u "$user" -- env HOME="$home" PATH="$PATH" CI="${CI:-}" NBUILD_CONFORMANCE="$conformance" NBUILD_TEST_USER="$user" NBUILD_TESTS_AS_ROOT= bash "$here/scripts/run-tests.sh" --no-build "$@"
