import test from 'ava';
import { bypassed, proxyFor } from '../../src/registry/proxy.js';

test('NO_PROXY matching as Go net/http: domains, leading dots, IPs, CIDRs, ports, *', (t) => {
  t.true(bypassed('example.com', '443', 'example.com'));
  t.true(bypassed('a.example.com', '443', 'example.com'));
  t.false(bypassed('badexample.com', '443', 'example.com'));
  t.true(bypassed('a.example.com', '443', '.example.com'));
  t.false(bypassed('example.com', '443', '.example.com'));
  t.true(bypassed('a.example.com', '443', '*.example.com'));
  t.true(bypassed('10.1.2.3', '5000', '10.0.0.0/8'));
  t.false(bypassed('11.1.2.3', '5000', '10.0.0.0/8'));
  t.true(bypassed('fd00::5', '443', 'fd00::/8'));
  t.true(bypassed('192.168.1.1', '443', 'foo, 192.168.1.1'));
  t.true(bypassed('reg.internal', '5000', 'reg.internal:5000'));
  t.false(bypassed('reg.internal', '443', 'reg.internal:5000'));
  t.true(bypassed('anything', '1', '*'));
  t.false(bypassed('anything', '1', ''));
});

test('proxyFor: scheme picks the variable, upper case first; loopback and NO_PROXY go direct', (t) => {
  const env = { HTTPS_PROXY: 'http://up:3128', https_proxy: 'http://low:3128', http_proxy: 'proxy.internal:8080', NO_PROXY: '.corp' };
  t.is(proxyFor(new URL('https://quay.io/v2/'), env)?.href, 'http://up:3128/');
  t.is(proxyFor(new URL('http://reg.example:5000/v2/'), env)?.href, 'http://proxy.internal:8080/');
  t.is(proxyFor(new URL('https://a.corp/v2/'), env), undefined);
  t.is(proxyFor(new URL('https://127.0.0.1:5000/v2/'), env), undefined);
  t.is(proxyFor(new URL('https://localhost:5000/v2/'), env), undefined);
  t.is(proxyFor(new URL('https://[::1]:5000/v2/'), env), undefined);
  t.is(proxyFor(new URL('https://quay.io/v2/'), {}), undefined);
});
