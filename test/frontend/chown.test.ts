// COPY/ADD --chown: the one grammar (frontend/dockerfile/chown.ts), read as BuildKit's
// llb.WithUser reads it, and the ids it gives in an image (sandbox/user.ts: resolveChownFrom),
// as BuildKit's readUser gives them.
import test from 'ava';
import { parseChown } from '../../src/frontend/dockerfile/chown.js';
import { InstructionError } from '../../src/frontend/dockerfile/flags.js';
import { expandInstruction, parseDockerfile } from '../../src/frontend/dockerfile/index.js';
import { DockerfileError } from '../../src/errors.js';
import { resolveChownFrom } from '../../src/sandbox/index.js';
import { GROUP } from '../helpers/busybox-rootfs.js';

// A user whose primary group is not its uid (Debian's `games`, 5:60).
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\ngames:x:5:60:games:/usr/games:/bin/false\nuser:x:1000:1000::/home/user:/bin/sh\n';

test('literals: USER[:GROUP], split at the first colon, each an id or a name', (t) => {
  t.deepEqual(parseChown('app'), { text: 'app', user: { name: 'app' } });
  t.deepEqual(parseChown('1000'), { text: '1000', user: { id: 1000 } });
  t.deepEqual(parseChown('app:staff'), { text: 'app:staff', user: { name: 'app' }, group: { name: 'staff' } });
  t.deepEqual(parseChown('1000:nobody'), { text: '1000:nobody', user: { id: 1000 }, group: { name: 'nobody' } });
  t.deepEqual(parseChown('007:+8'), { text: '007:+8', user: { id: 7 }, group: { id: 8 } }, "Go's ParseInt: leading zeros and a + sign");
  t.deepEqual(parseChown('2147483647'), { text: '2147483647', user: { id: 2 ** 31 - 1 } });
  t.deepEqual(parseChown('app-1.x_y'), { text: 'app-1.x_y', user: { name: 'app-1.x_y' } });
});

test("BuildKit's readings: empty sets no owner, an empty side is id 0, root is 0", (t) => {
  t.deepEqual(parseChown(''), { text: '' });
  t.deepEqual(parseChown(':staff'), { text: ':staff', user: { id: 0 }, group: { name: 'staff' } });
  t.deepEqual(parseChown('app:'), { text: 'app:', user: { name: 'app' }, group: { id: 0 } });
  t.deepEqual(parseChown(':'), { text: ':', user: { id: 0 }, group: { id: 0 } });
  t.deepEqual(parseChown('root:root'), { text: 'root:root', user: { id: 0 }, group: { id: 0 } });
});

test('refused: a group with a colon, an id out of range', (t) => {
  t.throws(() => parseChown('a:b:c'), { instanceOf: InstructionError, message: 'invalid --chown=a:b:c: expected USER[:GROUP], each a name or a numeric id' });
  t.throws(() => parseChown('2147483648'), { instanceOf: InstructionError, message: /uid 2147483648 is out of range/ });
  t.throws(() => parseChown('1:4294967296'), { instanceOf: InstructionError, message: /gid 4294967296 is out of range/ });
  t.throws(() => parseChown('-1'), { instanceOf: InstructionError, message: /uid -1 is out of range/ });
});

test('a literal is refused where it is written: Dockerfile:LINE', (t) => {
  const e = t.throws(() => parseDockerfile('FROM scratch\n\nCOPY --chown=a:b:c x /\n', 'Dockerfile'), { instanceOf: DockerfileError });
  t.is(e?.location.line, 3);
  t.is(e?.message, 'Dockerfile:3: invalid --chown=a:b:c: expected USER[:GROUP], each a name or a numeric id');
  t.is(t.throws(() => parseDockerfile('FROM scratch\nADD --chown=99999999999 x /\n', 'Dockerfile'))?.message, 'Dockerfile:2: invalid --chown=99999999999: uid 99999999999 is out of range (at most 2147483647)');
});

test('a value with variables is parsed once expanded, errors at its line', (t) => {
  const d = parseDockerfile('FROM scratch\nCOPY --chown=${U}:${G} x /\nADD --chown=$EMPTY x /\nCOPY --chown="$U:$U:$U" x /\n', 'Dockerfile');
  const [copy, add, bad] = d.stages[0].instructions;
  t.deepEqual(copy.kind === 'copy' && copy.chown, { text: '${U}:${G}' }, 'not parsed before expansion');
  const env = (n: string) => ({ U: 'app', G: '' } as Record<string, string | undefined>)[n];
  t.like(expandInstruction(copy, env, d.escape), { chown: { text: 'app:', user: { name: 'app' }, group: { id: 0 } } });
  t.like(expandInstruction(add, env, d.escape), { chown: { text: '' } });
  t.is((expandInstruction(add, env, d.escape) as { chown?: { user?: unknown } }).chown?.user, undefined);
  const e = t.throws(() => expandInstruction(bad, env, d.escape), { instanceOf: DockerfileError });
  t.is(e?.message, 'Dockerfile:4: COPY: invalid --chown=app:app:app: expected USER[:GROUP], each a name or a numeric id');
});

const ids = (text: string, files: { passwd?: string; group?: string } = { passwd: PASSWD, group: GROUP }) => resolveChownFrom(files.passwd, files.group, parseChown(text));

test('ids as BuildKit gives them: a numeric user is its own gid, a name takes its passwd gid', (t) => {
  t.deepEqual(ids('1000'), { uid: 1000, gid: 1000 });
  t.deepEqual(ids('4242'), { uid: 4242, gid: 4242 }, 'an id is not looked up');
  t.deepEqual(ids('games'), { uid: 5, gid: 60 }, "a named user's primary group, not its uid");
  t.deepEqual(ids('games:users'), { uid: 5, gid: 100 });
  t.deepEqual(ids('1000:audio'), { uid: 1000, gid: 29 });
  t.deepEqual(ids('daemon:'), { uid: 1, gid: 0 }, 'an empty group is gid 0 (BuildKit)');
  t.deepEqual(ids(':users'), { uid: 0, gid: 100 });
  t.deepEqual(ids('12:34', {}), { uid: 12, gid: 34 }, 'ids need no /etc/passwd');
  t.deepEqual(ids('root', {}), { uid: 0, gid: 0 }, 'root needs no /etc/passwd');
  t.is(ids(''), undefined, '--chown= sets no owner');
});

test('a name the image lacks is an error with a stable code', (t) => {
  t.like(t.throws(() => ids('ghost')), { code: 'USER_NOT_FOUND', message: 'unable to find user ghost: no matching entries in passwd file' });
  t.like(t.throws(() => ids('user:ghosts')), { code: 'GROUP_NOT_FOUND', message: 'unable to find group ghosts: no matching entries in group file' });
  t.like(t.throws(() => ids('user', {})), { code: 'USER_NOT_FOUND' });
});
