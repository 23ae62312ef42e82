// The user-namespace test set (ava.userns.config.js, docs/design.md "Tests") really runs as root
// of a user namespace that the unprivileged test user made, with its subordinate ids mapped as
// nbuild maps them: the API's build() and loadImages() need exactly that.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { uidMap } from '../helpers/userns-map.js';

test('this set runs with euid 0 in a user namespace owned by the unprivileged test user', (t) => {
  t.is(process.geteuid?.(), 0);
  t.is(process.getuid?.(), 0);
  const map = uidMap();
  const outer = Number(process.env.NBUILD_TEST_OUTER_UID);
  t.true(Number.isInteger(outer) && outer !== 0, `run-tests.sh names the namespace's maker (NBUILD_TEST_OUTER_UID=${process.env.NBUILD_TEST_OUTER_UID})`);
  t.deepEqual(map[0], [0, outer, 1], 'root inside is the unprivileged user outside');
  t.notDeepEqual(map, uidMap(1), 'not the initial user namespace');
  const user = process.env.NBUILD_TEST_USER;
  if (user) {
    // Run by root, run-tests.sh re-runs itself as the test user (nbuild-test in CI), with its subordinate range.
    t.is(execFileSync('getent', ['passwd', String(outer)]).toString().split(':')[0], user);
    t.true(map.length > 1, `the subordinate ids are mapped too: ${JSON.stringify(map)}`);
  }
});
