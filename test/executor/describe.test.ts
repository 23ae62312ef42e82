// describe() of each step on object literals: no store, no files. The history text is BuildKit's
// (dockerfile2llb), the cache material what a step's key is made of, the change what the config gets.
import test from 'ava';
import { parseDockerfile } from '../../src/frontend/dockerfile/index.js';
import type { Instruction } from '../../src/frontend/dockerfile/types.js';
import type { BuildView, StageFlags, StageView, Step, StepDescription } from '../../src/executor/step.js';
import type { StageState } from '../../src/executor/state.js';
import { runStep } from '../../src/executor/steps/run.js';
import { copyStep } from '../../src/executor/steps/copy.js';
import { argStep } from '../../src/executor/steps/arg.js';
import { workdirStep } from '../../src/executor/steps/workdir.js';
import { metadataStep } from '../../src/executor/steps/metadata.js';

/** The instructions of a one-stage Dockerfile's body. */
function instructions(body: string): Instruction[] {
  return parseDockerfile(`FROM scratch\n${body}\n`, 'Dockerfile').stages[0].instructions;
}

function one<K extends Instruction['kind']>(body: string, kind: K): Extract<Instruction, { kind: K }> {
  const [instr] = instructions(body);
  if (instr.kind !== kind) throw new Error(`expected ${kind}, got ${instr.kind}`);
  return instr as Extract<Instruction, { kind: K }>;
}

function stage(over: Partial<StageState> = {}): StageState {
  return { config: {}, layers: [], history: [], args: new Map(), declared: [], platform: { os: 'linux', architecture: 'amd64' }, baseLayers: 0, chainKey: 'base', ...over };
}

const build = (over: Partial<BuildView> = {}): BuildView => ({ escape: '\\', buildArgs: new Map(), globalArgs: new Map(), network: 'default', ...over });

/** A copy of what describe() may see, to check it changed nothing. */
const snapshot = (s: StageView) => JSON.stringify({ config: s.config, args: [...s.args], declared: s.declared });

function describe<I extends Instruction>(step: Step<I, unknown>, instr: I, s: StageState, b = build()): StepDescription<unknown> {
  const before = snapshot(s);
  const d = step.describe(instr, s, b);
  if (snapshot(s) !== before) throw new Error('describe() changed the stage');
  return d;
}

const flags = (): StageFlags => ({ cmdSet: false });

test('RUN: BuildKit history text; the material holds the command, env, user, cwd; the mount sources are left to read()', (t) => {
  const d = describe(runStep, one('RUN echo hi', 'run'), stage({ config: { User: 'app', WorkingDir: '/w', Env: ['X=1'] } }));
  t.is(d.kind, 'layer');
  t.is(d.createdBy, 'RUN /bin/sh -c echo hi # buildkit');
  if (d.kind !== 'layer') return;
  t.like(d.material, { createdBy: 'RUN /bin/sh -c echo hi # buildkit', user: 'app', cwd: '/w', network: 'default' });
  t.deepEqual(d.material.env, ['X=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root']);
  t.true('mountSources' in d.material && d.material.mountSources === undefined);
});

test('RUN: exec form and SHELL', (t) => {
  t.is(describe(runStep, one('RUN ["echo", "hi"]', 'run'), stage()).createdBy, 'RUN echo hi # buildkit');
  t.is(describe(runStep, one('RUN echo hi', 'run'), stage({ config: { Shell: ['/bin/bash', '-xc'] } })).createdBy, 'RUN /bin/bash -xc echo hi # buildkit');
});

test('ARG then RUN: the declared ARG is in the history (|1 A=b) and changes the cache material', (t) => {
  const s = stage();
  const plain = describe(runStep, one('RUN echo $A', 'run'), s);
  const arg = describe(argStep, one('ARG A=b', 'arg'), s);
  t.is(arg.kind, 'config');
  t.is(arg.createdBy, 'ARG A=b');
  arg.change?.(s, flags());
  t.deepEqual([...s.args], [['A', 'b']]);
  t.deepEqual(s.declared, ['A']);
  const withArg = describe(runStep, one('RUN echo $A', 'run'), s);
  t.is(withArg.createdBy, 'RUN |1 A=b /bin/sh -c echo $A # buildkit');
  if (plain.kind !== 'layer' || withArg.kind !== 'layer') return t.fail();
  t.notDeepEqual(plain.material, withArg.material);
  t.true((withArg.material.env as string[]).includes('A=b'));
});

test('ARG: a --build-arg wins over the default, and the value is material; no value: the name alone', (t) => {
  const byDefault = describe(argStep, one('ARG A=b', 'arg'), stage());
  const given = describe(argStep, one('ARG A=b', 'arg'), stage(), build({ buildArgs: new Map([['A', 'c']]) }));
  t.is(given.createdBy, 'ARG A=c');
  t.notDeepEqual(byDefault.material, given.material);
  t.is(describe(argStep, one('ARG A', 'arg'), stage()).createdBy, 'ARG A');
  // A global ARG's value reaches a stage's `ARG NAME`.
  t.is(describe(argStep, one('ARG V', 'arg'), stage(), build({ globalArgs: new Map([['V', '1.2']]) })).createdBy, 'ARG V=1.2');
});

test('ARG: a later default of the same instruction sees an earlier one; ENV wins over ARG in expansion', (t) => {
  t.is(describe(argStep, one('ARG A=x B=${A}y', 'arg'), stage()).createdBy, 'ARG A=x B=xy');
  t.is(describe(argStep, one('ARG B=$A', 'arg'), stage({ config: { Env: ['A=env'] }, args: new Map([['A', 'arg']]) })).createdBy, 'ARG B=env');
});

test('COPY and ADD: history without --from, with --chown/--chmod; the content digest is left to read()', (t) => {
  const copy = describe(copyStep, one('COPY foo /bar', 'copy'), stage());
  t.is(copy.createdBy, 'COPY foo /bar # buildkit');
  t.is(describe(copyStep, one('COPY --from=build --chown=1:2 --chmod=644 a b /d/', 'copy'), stage()).createdBy, 'COPY --chown=1:2 --chmod=644 a b /d/ # buildkit');
  t.is(describe(copyStep, one('ADD x.tar /', 'add'), stage()).createdBy, 'ADD x.tar / # buildkit');
  if (copy.kind !== 'layer') return t.fail();
  t.like(copy.material, { cwd: '' });
  t.true('content' in copy.material && copy.material.content === undefined);
  // The variables are expanded before the history and the key.
  t.is(describe(copyStep, one('COPY $SRC /bar', 'copy'), stage({ args: new Map([['SRC', 'foo']]) })).createdBy, 'COPY foo /bar # buildkit');
});

test('COPY: the working directory is material (a relative destination lands elsewhere)', (t) => {
  const at = (dir: string) => describe(copyStep, one('COPY foo bar', 'copy'), stage({ config: { WorkingDir: dir } }));
  const a = at('/a');
  const b = at('/b');
  if (a.kind !== 'layer' || b.kind !== 'layer') return t.fail();
  t.notDeepEqual(a.material, b.material);
});

test('ENV: history, material and change', (t) => {
  const s = stage({ config: { Env: ['a=old', 'z=1'] } });
  const d = describe(metadataStep, one('ENV a=b', 'env'), s);
  t.is(d.kind, 'config');
  t.is(d.createdBy, 'ENV a=b');
  t.is(d.material, 'ENV a=b');
  d.change?.(s, flags());
  t.deepEqual(s.config.Env, ['a=b', 'z=1']);
});

test('metadata: history texts as BuildKit writes them', (t) => {
  const text = (body: string, s = stage()) => describe(metadataStep, instructions(body)[0] as never, s).createdBy;
  t.is(text('LABEL a=b c="d e"'), 'LABEL a=b c=d e');
  t.is(text('USER app:app'), 'USER app:app');
  t.is(text('EXPOSE 80 8000-8001/udp'), 'EXPOSE [80/tcp 8000/udp 8001/udp]');
  t.is(text('VOLUME /data /logs'), 'VOLUME [/data /logs]');
  t.is(text('CMD echo hi'), 'CMD ["/bin/sh" "-c" "echo hi"]');
  t.is(text('CMD echo hi', stage({ config: { Shell: ['/bin/bash', '-c'] } })), 'CMD ["/bin/bash" "-c" "echo hi"]');
  t.is(text('ENTRYPOINT ["/app", "--flag"]'), 'ENTRYPOINT ["/app" "--flag"]');
  t.is(text('SHELL ["/bin/bash", "-c"]'), 'SHELL [/bin/bash -c]');
  t.is(text('STOPSIGNAL SIGTERM'), 'STOPSIGNAL SIGTERM');
  t.is(text('MAINTAINER someone'), 'MAINTAINER someone');
  t.is(text('HEALTHCHECK --interval=5s CMD true'), 'HEALTHCHECK {Test:[CMD-SHELL true] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}');
});

test('ENTRYPOINT resets an inherited CMD, not one the stage set', (t) => {
  const s = stage({ config: { Cmd: ['inherited'] } });
  const f = flags();
  describe(metadataStep, one('ENTRYPOINT ["/e"]', 'entrypoint'), s).change?.(s, f);
  t.is(s.config.Cmd, null);
  describe(metadataStep, one('CMD ["c"]', 'cmd'), s).change?.(s, f);
  describe(metadataStep, one('ENTRYPOINT ["/f"]', 'entrypoint'), s).change?.(s, f);
  t.deepEqual(s.config.Cmd, ['c']);
});

test('ONBUILD: no history entry; the trigger is material and lands in the config', (t) => {
  const s = stage();
  const d = describe(metadataStep, one('ONBUILD RUN echo later', 'onbuild'), s);
  t.is(d.kind, 'config');
  t.is(d.createdBy, undefined);
  t.is(d.material, JSON.stringify('ONBUILD RUN echo later'));
  d.change?.(s, flags());
  t.deepEqual(s.config.OnBuild, ['RUN echo later']);
});

test('WORKDIR: resolved against the previous one; a layer step keyed by the text and the USER', (t) => {
  const s = stage({ config: { WorkingDir: '/a', User: 'app' } });
  const d = describe(workdirStep, one('WORKDIR b', 'workdir'), s);
  t.is(d.kind, 'layer');
  t.is(d.createdBy, 'WORKDIR /a/b');
  if (d.kind !== 'layer') return;
  t.deepEqual(d.material, { createdBy: 'WORKDIR /a/b', user: 'app' });
  d.change?.(s, flags());
  t.is(s.config.WorkingDir, '/a/b');
});

test('describe() reports a bad instruction at its line, before anything changes', (t) => {
  const s = stage();
  t.throws(() => describe(metadataStep, one('VOLUME ""', 'volume'), s), { message: /VOLUME specified can not be an empty string/ });
  t.throws(() => describe(metadataStep, one('EXPOSE 99999', 'expose'), s), { message: /EXPOSE: invalid port range/ });
  t.throws(() => describe(argStep, one('ARG A=${B:?noB}', 'arg'), s), { message: /ARG: .*noB/ });
  t.deepEqual(s.config, {});
});

test('COPY --chown: the cache material holds its text as written, as before it was parsed (keys stay valid)', (t) => {
  const d = describe(copyStep, one('COPY --chown=${U}:staff a /d/', 'copy'), stage({ args: new Map([['U', 'app']]) }));
  if (d.kind !== 'layer') return t.fail();
  t.is(d.createdBy, 'COPY --chown=app:staff a /d/ # buildkit');
  t.is((d.material.instr as { chown?: unknown }).chown, 'app:staff');
  const empty = describe(copyStep, one('COPY --chown= a /d/', 'copy'), stage());
  t.is(empty.createdBy, 'COPY a /d/ # buildkit');
  if (empty.kind === 'layer') t.is((empty.material.instr as { chown?: unknown }).chown, '');
});
