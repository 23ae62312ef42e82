// RUN's network plan on synthetic host probes (the end-to-end behaviour is test/security/sandbox.test.ts).
import test from 'ava';
import { fallbackNotice, planRunNetwork, resolvConfFor } from '../../src/sandbox/index.js';

const ok = { ok: true, error: '' };
const no = (error: string): { ok: false; error: string } => ({ ok: false, error });
const usable = { networkNamespace: ok, slirp4netns: { binary: '/usr/bin/slirp4netns', devTun: ok } };

test('default: a namespace of its own through slirp4netns when the host allows it', (t) => {
  t.deepEqual(planRunNetwork('default', usable, 'namespaces'), { network: 'slirp4netns', slirp4netns: '/usr/bin/slirp4netns' });
});

test('host and none are taken as asked, with no notice', (t) => {
  t.deepEqual(planRunNetwork('host', usable, 'namespaces'), { network: 'host' });
  t.deepEqual(planRunNetwork('none', { ...usable, slirp4netns: { devTun: no('/dev/net/tun: EACCES') } }, 'namespaces'), { network: 'none' });
  t.deepEqual(planRunNetwork('host', usable, 'chroot'), { network: 'host' });
});

test('default falls back to the host network with the reason and the fix', (t) => {
  const cases: Array<[Parameters<typeof planRunNetwork>[1], 'namespaces' | 'chroot', RegExp]> = [
    [{ ...usable, slirp4netns: { devTun: ok } }, 'namespaces', /slirp4netns is not installed \(fix: apt-get install slirp4netns\)/],
    [{ ...usable, slirp4netns: { binary: '/usr/bin/slirp4netns', devTun: no('/dev/net/tun: EACCES') } }, 'namespaces', /^\/dev\/net\/tun is not open to this user \(EACCES\).*chmod 0666 \/dev\/net\/tun/],
    [{ ...usable, networkNamespace: no('unshare network namespace: Operation not permitted') }, 'namespaces', /network namespaces are refused \(unshare network namespace: Operation not permitted\)/],
    [usable, 'chroot', /chroot isolation makes no network namespace/],
  ];
  for (const [probe, isolation, why] of cases) {
    const plan = planRunNetwork('default', probe, isolation);
    t.is(plan.network, 'host');
    t.regex(plan.fallback ?? '', why);
    t.regex(fallbackNotice(plan.fallback ?? ''), /^RUN steps use the host network, not one of their own: /);
  }
});

test('--network none is refused with chroot isolation, not ignored', (t) => {
  t.throws(() => planRunNetwork('none', usable, 'chroot'), { message: /needs a network namespace, which chroot isolation does not make/ });
});

test("the step's resolv.conf asks slirp4netns's forwarder, keeping search and options", (t) => {
  const host = 'nameserver 127.0.0.53\nsearch example.org\noptions edns0\nnameserver 10.1.1.1\n';
  t.is(resolvConfFor('slirp4netns', host), 'nameserver 10.0.2.3\nsearch example.org\noptions edns0\n');
  t.is(resolvConfFor('host', host), host);
  t.is(resolvConfFor('none', host), host);
});
