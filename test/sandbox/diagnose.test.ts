// First-run diagnostics on simulated hosts: each cause gives one message with its exact fix.
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFinding, diagnoseHost, singleIdWarning, userNamespaceFailure, type HostInputs } from '../../src/sandbox/diagnose.js';

/** A host where everything is in order; `change` breaks one thing. */
function host(t: { teardown(f: () => void): void }, change: (dir: string, inputs: HostInputs) => void = () => {}): HostInputs {
  const dir = mkdtempSync(join(tmpdir(), 'nbuild-diagnose-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['newuidmap', 'newgidmap']) {
    writeFileSync(join(bin, tool), '#!/bin/sh\n');
    chmodSync(join(bin, tool), 0o755);
  }
  for (const f of ['kernel', 'user']) mkdirSync(join(dir, 'sys', f), { recursive: true });
  writeFileSync(join(dir, 'sys', 'kernel', 'unprivileged_userns_clone'), '1\n');
  writeFileSync(join(dir, 'sys', 'user', 'max_user_namespaces'), '63569\n');
  writeFileSync(join(dir, 'subuid'), 'alice:100000:65536\nbob:165536:65536\n');
  writeFileSync(join(dir, 'subgid'), 'alice:100000:65536\nbob:165536:65536\n');
  writeFileSync(join(dir, 'os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n');
  const inputs: HostInputs = {
    path: bin,
    subuid: join(dir, 'subuid'),
    subgid: join(dir, 'subgid'),
    procSys: join(dir, 'sys'),
    osRelease: join(dir, 'os-release'),
    user: { name: 'alice', uid: 1000 },
    helper: '/opt/nbuild/nbuild-sandbox',
  };
  change(dir, inputs);
  return inputs;
}

test('a host in order has nothing to report', (t) => {
  t.deepEqual(diagnoseHost(host(t)), []);
});

test('newuidmap and newgidmap missing from PATH: install uidmap, per distribution', (t) => {
  const inputs = host(t, (dir, i) => (i.path = join(dir, 'empty')));
  const [f, ...rest] = diagnoseHost(inputs);
  t.is(rest.length, 0);
  t.is(f.code, 'NO_NEWUIDMAP');
  t.false(f.fatal);
  t.regex(f.cause, /^newuidmap and newgidmap are not installed/);
  t.is(f.fix, 'sudo apt-get install -y uidmap');
  const fedora = host(t, (dir, i) => {
    i.path = join(dir, 'empty');
    writeFileSync(i.osRelease, 'ID=fedora\n');
  });
  t.is(diagnoseHost(fedora)[0].fix, 'sudo dnf install -y shadow-utils');
  const ubuntu = host(t, (dir, i) => {
    rmSync(join(dir, 'bin', 'newgidmap'));
    writeFileSync(i.osRelease, 'ID=ubuntu\nID_LIKE=debian\n');
  });
  const [u] = diagnoseHost(ubuntu);
  t.regex(u.cause, /^newgidmap is not installed/);
  t.is(u.fix, 'sudo apt-get install -y uidmap');
});

test('no subordinate range: usermod with a range after the ones given out', (t) => {
  const inputs = host(t, (_dir, i) => (i.user = { name: 'carol', uid: 1002 }));
  const [f, ...rest] = diagnoseHost(inputs);
  t.is(rest.length, 0);
  t.is(f.code, 'NO_SUBID_RANGE');
  t.regex(f.cause, /user "carol" has no subordinate id range in .*subuid and .*subgid/);
  t.is(f.fix, 'sudo usermod --add-subuids 231072-296607 --add-subgids 231072-296607 carol');
  // A range in /etc/subuid only: /etc/subgid is named.
  const half = host(t, (dir, i) => writeFileSync(i.subgid, 'bob:165536:65536\n'));
  t.regex(diagnoseHost(half)[0].cause, /range in \S*subgid, so/);
  // By numeric uid, as shadow-utils matches too: nothing to report.
  const byUid = host(t, (dir, i) => {
    writeFileSync(i.subuid, '1000:100000:65536\n');
    writeFileSync(i.subgid, '1000:100000:65536\n');
  });
  t.deepEqual(diagnoseHost(byUid), []);
});

test('kernel.unprivileged_userns_clone=0: the sysctl, set persistently', (t) => {
  const inputs = host(t, (dir) => writeFileSync(join(dir, 'sys', 'kernel', 'unprivileged_userns_clone'), '0\n'));
  const [f, ...rest] = diagnoseHost(inputs);
  t.is(rest.length, 0);
  t.is(f.code, 'USERNS_CLONE_DISABLED');
  t.true(f.fatal);
  t.is(f.fix, "echo 'kernel.unprivileged_userns_clone=1' | sudo tee /etc/sysctl.d/60-nbuild-userns.conf && sudo sysctl -p /etc/sysctl.d/60-nbuild-userns.conf");
  t.is(
    userNamespaceFailure('Operation not permitted', inputs),
    `cannot create a user namespace (Operation not permitted): ${describeFinding(f)}`,
  );
});

test('user.max_user_namespaces=0: the sysctl', (t) => {
  const inputs = host(t, (dir) => writeFileSync(join(dir, 'sys', 'user', 'max_user_namespaces'), '0\n'));
  const [f, ...rest] = diagnoseHost(inputs);
  t.is(rest.length, 0);
  t.is(f.code, 'USERNS_MAX_ZERO');
  t.regex(f.cause, /user\.max_user_namespaces = 0/);
  t.is(f.fix, "echo 'user.max_user_namespaces=28633' | sudo tee /etc/sysctl.d/60-nbuild-userns.conf && sudo sysctl -p /etc/sysctl.d/60-nbuild-userns.conf");
});

test('AppArmor restriction (Ubuntu 24.04): a profile that allows the helper, unless a namespace was seen to work', (t) => {
  const inputs = host(t, (dir) => writeFileSync(join(dir, 'sys', 'kernel', 'apparmor_restrict_unprivileged_userns'), '1\n'));
  const [f, ...rest] = diagnoseHost(inputs);
  t.is(rest.length, 0);
  t.is(f.code, 'APPARMOR_USERNS');
  t.regex(f.cause, /kernel\.apparmor_restrict_unprivileged_userns = 1.*\/opt\/nbuild\/nbuild-sandbox/);
  t.is(
    f.fix,
    "printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile nbuild-sandbox /opt/nbuild/nbuild-sandbox flags=(unconfined) {\\n  userns,\\n}\\n'" +
      ' | sudo tee /etc/apparmor.d/nbuild-sandbox && sudo apparmor_parser -r /etc/apparmor.d/nbuild-sandbox',
  );
  t.deepEqual(diagnoseHost(inputs, true), [], 'a profile already allows it');
  t.is(diagnoseHost(inputs, false).length, 1);
});

test('the launcher\'s single-id reason: the cause found, else its own words', (t) => {
  const missing = host(t, (dir, i) => (i.path = join(dir, 'empty')));
  t.is(singleIdWarning('newuidmap/newgidmap failed (cannot run newuidmap: No such file or directory)', missing), `warning: ${describeFinding(diagnoseHost(missing)[0])}`);
  t.is(
    singleIdWarning('newuidmap/newgidmap failed (newuidmap: write to uid_map failed: Operation not permitted)', host(t)),
    'warning: newuidmap/newgidmap failed (newuidmap: write to uid_map failed: Operation not permitted): only your own id is mapped, so RUN steps that give files to other users fail',
  );
  t.is(userNamespaceFailure('Invalid argument', host(t)), 'cannot create a user namespace: Invalid argument');
});
