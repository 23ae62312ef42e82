// The default test set (ava.config.js), where the CLI tests live, runs as the unprivileged user
// outside any user namespace of the suite's own: bin/nbuild enters one itself, as for a user.
import test from 'ava';
import { uidMap } from '../helpers/userns-map.js';

test('this set runs unprivileged, in the user namespace run-tests.sh was started in', (t) => {
  t.not(process.geteuid?.(), 0);
  t.deepEqual(uidMap(), uidMap(1));
});
