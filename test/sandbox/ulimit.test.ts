// --ulimit values, parsed as docker's go-units ParseUlimit, and the rootless hard-limit check.
import test from 'ava';
import { checkUlimitsAgainstOwn, ownHardLimits, parseUlimits } from '../../src/sandbox/ulimit.js';

test('TYPE=SOFT[:HARD]: HARD defaults to SOFT, -1 is unlimited, a later value of a type wins', (t) => {
  t.deepEqual(parseUlimits(['nofile=1024:2048', 'core=0', 'stack=-1', 'core=5:-1']), [
    { name: 'nofile', soft: '1024', hard: '2048' },
    { name: 'core', soft: '5', hard: 'unlimited' },
    { name: 'stack', soft: 'unlimited', hard: 'unlimited' },
  ]);
});

test('bad values are usage errors naming the flag', (t) => {
  for (const [value, message] of [
    ['nofile', /expected TYPE=SOFT\[:HARD\]/],
    ['as=1', /unknown type "as"/],
    ['nofile=1:2:3', /too many values/],
    ['nofile=x', /"x" is not a number/],
    ['nofile=-2', /out of range/],
    ['nofile=9223372036854775808', /out of range/],
    ['nofile=20:10', /soft limit must not be above the hard limit: 20 > 10/],
    ['nofile=-1:10', /unlimited > 10/],
  ] as const) {
    const e = t.throws(() => parseUlimits([value]));
    t.regex(e?.message ?? '', new RegExp(`^--ulimit ${value.replace(/[[\]*]/g, '\\$&')}: `));
    t.regex(e?.message ?? '', message);
    t.is((e as { exitCode?: number }).exitCode, 2);
  }
});

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max stack size            8388608              unlimited            bytes
Max processes             62782                62782                processes
Max open files            1024                 4096                 files
`;

test("a hard limit above nbuild's own is refused; at or below it, or where nbuild has none, it is not", (t) => {
  const own = ownHardLimits(LIMITS);
  t.is(own.get('nofile'), 4096n);
  t.is(own.get('cpu'), -1n);
  t.notThrows(() => checkUlimitsAgainstOwn(parseUlimits(['nofile=4096', 'cpu=-1', 'stack=-1', 'nproc=10:62782']), own));
  t.throws(() => checkUlimitsAgainstOwn(parseUlimits(['nofile=1024:4097']), own), { message: /--ulimit nofile: the hard limit 4097 is above nbuild's own \(4096\)/ });
  t.throws(() => checkUlimitsAgainstOwn(parseUlimits(['nproc=-1']), own), { message: /--ulimit nproc: the hard limit unlimited is above/ });
});
