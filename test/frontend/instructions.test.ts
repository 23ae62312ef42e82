import test from 'ava';
import { parseDockerfile, expandInstruction, expandRunMounts, type Instruction } from '../../src/frontend/dockerfile/index.js';
import { DockerfileError } from '../../src/errors.js';
import { parseMount } from '../../src/frontend/dockerfile/mounts.js';

const df = (text: string) => parseDockerfile(text, 'Dockerfile');
const first = (body: string): Instruction => df(`FROM scratch\n${body}\n`).stages[0].instructions[0];
const fails = (t: import('ava').ExecutionContext, text: string, line: number, re: RegExp) => {
  const e = t.throws(() => df(text), { instanceOf: DockerfileError });
  t.is(e?.location.line, line, text);
  t.regex(e?.detail ?? '', re);
  t.regex(e?.message ?? '', new RegExp(`^Dockerfile:${line}: `));
};

test('stages, global args and names', (t) => {
  const d = df('ARG V=1\nFROM --platform=$P alpine:$V AS Build\nRUN x\nFROM build\nCOPY --from=build /a /b\n');
  t.is(d.globalArgs.length, 1);
  t.deepEqual(d.globalArgs[0].args, [{ name: 'V', defaultValue: '1' }]);
  t.is(d.stages.length, 2);
  t.is(d.stages[0].name, 'build');
  t.is(d.stages[0].from.stageName, 'Build');
  t.is(d.stages[0].from.platform, '$P');
  t.is(d.stages[1].instructions[0].kind, 'copy');
  t.true(d.warnings.some((w) => w.rule === 'StageNameCasing' && w.line === 2));
});

test('RUN: exec/shell form, mounts, network, security', (t) => {
  const r = first('RUN --mount=type=cache,target=/root/.cache,sharing=locked,id=x,mode=0700,uid=1 --mount=type=secret,id=tok,required --mount=type=tmpfs,dst=/t,size=64m --network=none --security=insecure ["a","b"]');
  if (r.kind !== 'run') return t.fail();
  t.deepEqual(r.command, { form: 'exec', args: ['a', 'b'] });
  const mounts = r.mountSpecs.map((m) => parseMount(m));
  t.deepEqual(mounts[0], { type: 'cache', target: '/root/.cache', id: 'x', sharing: 'locked', from: undefined, source: undefined, readonly: false, mode: 0o700, uid: 1, gid: undefined });
  t.like(mounts[1], { type: 'secret', id: 'tok', required: true });
  t.like(mounts[2], { type: 'tmpfs', target: '/t', size: 64 * 1024 * 1024 });
  t.is(r.network, 'none');
  t.is(r.security, 'insecure');
  const s = first('RUN --mount=type=bind,source=a,target=/b,rw echo hi');
  if (s.kind !== 'run') return t.fail();
  t.deepEqual(s.command, { form: 'shell', script: 'echo hi' });
  t.like(parseMount(s.mountSpecs[0]), { type: 'bind', source: 'a', target: '/b', readwrite: true });
});

test('RUN --mount values expand when the step runs (keys never); from= takes no variable', (t) => {
  const r = first('RUN --mount=type=$T,target=$P,id=${ID:-x},uid=$U echo');
  if (r.kind !== 'run') return t.fail();
  const vars: Record<string, string> = { T: 'cache', P: '/c', U: '7' };
  t.like(expandRunMounts(r, (n) => vars[n], '\\')[0], { type: 'cache', target: '/c', id: 'x', uid: 7 });
  // BuildKit's parse-time rule; a trailing $ is no variable
  fails(t, 'FROM x\nENV s=a\nRUN --mount=from=$s,target=/x y\n', 3, /'from' doesn't support variable expansion, define alias stage instead/);
  t.notThrows(() => df('FROM x\nRUN --mount=from=a$,target=/x y\n'));
  // without a variable a bad option fails at parse time; with one, when it is expanded
  fails(t, 'FROM x\nRUN --mount=typ=tmpfs y\n', 2, /unexpected key 'typ'/);
  const v = first('RUN --mount=type=$T y');
  if (v.kind !== 'run') return t.fail();
  const e = t.throws(() => expandRunMounts(v, () => 'tmp', '\\'), { instanceOf: DockerfileError });
  t.regex(e?.message ?? '', /^Dockerfile:2: RUN: unsupported mount type "tmp" \(did you mean tmpfs\?\)/);
});

test('COPY/ADD flags and heredoc sources', (t) => {
  const c = first('COPY --from=build --chown=app:app --chmod=u=rwx,go=rx --link --parents --exclude=*.md --exclude=x a b /dst/');
  t.like(c, { kind: 'copy', sources: ['a', 'b'], dest: '/dst/', from: 'build', chown: { text: 'app:app', user: { name: 'app' }, group: { name: 'app' } }, chmod: { text: 'u=rwx,go=rx' }, link: true, parents: true, exclude: ['*.md', 'x'] });
  const h = first('COPY <<EOF /etc/x\nhello\nEOF');
  t.like(h, { kind: 'copy', sources: [], dest: '/etc/x' });
  if (h.kind === 'copy') t.is(h.heredocs[0].content, 'hello\n');
  const sum = 'sha256:' + 'a'.repeat(64);
  t.like(first(`ADD --checksum=${sum} --keep-git-dir --chmod=0755 https://x/y.tgz /y`), { kind: 'add', checksum: sum, keepGitDir: true, chmod: { text: '0755', octal: 0o755 }, unpack: undefined });
});

test('HEALTHCHECK durations in nanoseconds', (t) => {
  t.like(first('HEALTHCHECK --interval=1m30s --timeout=3s --start-period=500ms --start-interval=1.5s --retries=3 CMD curl -f http://x/'), {
    test: ['CMD-SHELL', 'curl -f http://x/'], interval: 90e9, timeout: 3e9, startPeriod: 500e6, startInterval: 1.5e9, retries: 3,
  });
  t.like(first('HEALTHCHECK CMD ["curl","x"]'), { test: ['CMD', 'curl', 'x'] });
  t.like(first('HEALTHCHECK NONE'), { test: ['NONE'] });
});

test('ENV/LABEL/ARG/ONBUILD typing', (t) => {
  t.like(first('ENV A=1 B="x y"'), { pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"x y"' }] });
  t.like(first('ENV A hello world'), { pairs: [{ key: 'A', value: 'hello world' }] });
  const o = first('ONBUILD COPY --from=x a /b');
  t.like(o, { kind: 'onbuild', expression: 'COPY --from=x a /b', trigger: { kind: 'copy', from: 'x' } });
});

test('errors name FILE:LINE with did-you-mean', (t) => {
  fails(t, 'FROM x\n\nRUNN echo\n', 3, /unknown instruction: RUNN \(did you mean RUN\?\)/);
  fails(t, 'FROM x\nCOPY --chwon=1 a b\n', 2, /unknown flag: --chwon \(did you mean chown\?\)/);
  fails(t, 'FROM x\nRUN --mount=type=cahce,target=/x y\n', 2, /did you mean cache/);
  fails(t, 'FROM x\nCOPY \\\n  a\n', 2, /at least two arguments/);
  fails(t, 'FROM x\nCMD --foo x\n', 2, /unknown flag: --foo/);
  fails(t, 'FROM x\nHEALTHCHECK --interval=5 CMD x\n', 2, /time: /);
  fails(t, 'FROM x\nCOPY --chmod=999 a b\n', 2, /invalid chmod/);
  fails(t, 'FROM x\nSHELL sh -c\n', 2, /JSON form/);
  fails(t, 'RUN x\nFROM y\n', 1, /no build stage/);
  fails(t, 'ARG x=1\n', 1, /dockerfile contains no stages to build/);
  fails(t, '# syntax=foobar\nFROM x\n', 1, /syntax=foobar: .*cannot run the frontend image "foobar"/);
  for (const own of ['docker/dockerfile:1', 'mirror.gcr.io/docker/dockerfile:1.7-labs', 'docker/dockerfile-upstream:master', 'docker/dockerfile']) {
    t.notThrows(() => df(`# syntax=${own}\nFROM x\n`), own);
  }
  // BuildKit warns of a duplicate stage name (DuplicateStageName), it is no error
  t.deepEqual(df('FROM a AS one\nFROM b AS one\n').warnings.map((w) => [w.rule, w.line]), [['DuplicateStageName', 2]]);
  fails(t, 'FROM x\nCOPY --link=maybe a b\n', 2, /boolean/);
  fails(t, 'FROM x\nONBUILD FROM y\n', 2, /isn't allowed as an ONBUILD trigger/);
  const e = t.throws(() => df('FROM x\nRUNN y\n'), { instanceOf: DockerfileError });
  t.regex(e?.frame ?? '', /> 2 \| RUNN y/);
});

test('expandInstruction follows per-instruction rules', (t) => {
  const env = (n: string) => ({ A: 'aa', D: '/dst', P: '8080 9090' } as Record<string, string | undefined>)[n];
  const d = df('FROM scratch\nCOPY --chown=$A ${A}/x $D\nRUN echo $A\nEXPOSE $P\nENV K=$A-"q r"\nWORKDIR ${Z:-/w}\n');
  const [copy, run, expose, envI, wd] = d.stages[0].instructions.map((i) => expandInstruction(i, env, d.escape));
  t.like(copy, { sources: ['aa/x'], dest: '/dst', chown: { text: 'aa', user: { name: 'aa' } } });
  t.like(run, { command: { form: 'shell', script: 'echo $A' } });
  t.like(expose, { ports: ['8080', '9090'] });
  t.like(envI, { pairs: [{ key: 'K', value: 'aa-q r' }] });
  t.like(wd, { path: '/w' });
  const bad = df('FROM scratch\n\nUSER ${U:?must be set}\n').stages[0].instructions[0];
  const e = t.throws(() => expandInstruction(bad, env, '\\'), { instanceOf: DockerfileError });
  t.is(e?.location.line, 3);
  t.regex(e?.message ?? '', /U: must be set/);
});

test('checks: UndefinedVar in a scratch stage, check=skip directive', (t) => {
  const d = df('FROM scratch\nARG X\nCOPY $X $Y /\n');
  t.deepEqual(d.warnings.map((w) => [w.rule, w.line]), [['UndefinedVar', 3]]);
  t.is(df('# check=skip=all\nFROM x\nMAINTAINER me\n').warnings.length, 0);
  t.true(df('FROM x\nMAINTAINER me\n').warnings.some((w) => w.rule === 'MaintainerDeprecated'));
});
