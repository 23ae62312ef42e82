import test from 'ava';
import { parseDockerfile } from '../../src/frontend/dockerfile/index.js';
import { epochArgInPlay, planBuild } from '../../src/planner/plan.js';
import { proxyEnv } from '../../src/planner/args.js';
import { DockerfileError, UsageError } from '../../src/errors.js';

const plan = (text: string, opts: Parameters<typeof planBuild>[1] = {}) => planBuild(parseDockerfile(text, 'Dockerfile'), opts);

test('stages the target does not need are left out', (t) => {
  const p = plan('FROM busybox AS a\nRUN x\nFROM busybox AS unused\nRUN exit 1\nFROM scratch\nCOPY --from=a /x /x\n');
  t.deepEqual(p.stages.map((s) => s.stage.index), [0, 2]);
  t.deepEqual(p.stages[1].dependsOn, [0]);
  t.is(p.target, 2);
});

test('--target picks a named stage, case-insensitively; an unknown one is a usage error', (t) => {
  const p = plan('FROM busybox AS Base\nFROM base AS second\nFROM scratch\n', { target: 'SECOND' });
  t.deepEqual(p.stages.map((s) => s.stage.index), [0, 1]);
  t.deepEqual(p.stages[1].base, { kind: 'stage', index: 0 });
  t.throws(() => plan('FROM busybox AS a\n', { target: 'nope' }), { instanceOf: UsageError, message: /nope.*stages: a/ });
});

test('global ARGs expand FROM, and build args override their defaults', (t) => {
  const df = 'ARG BASE=busybox\nARG TAG\nFROM ${BASE}:${TAG:-latest}\n';
  t.deepEqual(plan(df).stages[0].base, { kind: 'image', ref: 'busybox:latest' });
  t.deepEqual(plan(df, { buildArgs: new Map([['BASE', 'alpine'], ['TAG', '3']]) }).stages[0].base, { kind: 'image', ref: 'alpine:3' });
  t.is(plan(df).stages[0].globalArgs.get('BASE'), 'busybox');
});

test('platform ARGs are predefined for FROM', (t) => {
  const p = plan('FROM img-${TARGETARCH}\n', { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  t.deepEqual(p.stages[0].base, { kind: 'image', ref: 'img-arm64' });
});

test('scratch, numbered --from and RUN --mount from= are dependencies', (t) => {
  const p = plan('FROM scratch\nFROM busybox\nCOPY --from=0 / /\nRUN --mount=type=bind,from=0,target=/m true\n');
  t.deepEqual(p.stages[0].base, { kind: 'scratch' });
  t.deepEqual(p.stages[1].dependsOn, [0]);
});

test('a FROM with an empty image is a Dockerfile error with its line', (t) => {
  t.throws(() => plan('ARG X\nFROM $X\n'), { instanceOf: DockerfileError, message: /Dockerfile:2/ });
});

test('FROM --platform sets the stage platform ($BUILDPLATFORM for the cross pattern); stages from stages inherit it', (t) => {
  const host = { os: 'linux', architecture: 'amd64' };
  const arm = { os: 'linux', architecture: 'arm64', variant: 'v8' };
  const p = plan('FROM --platform=$BUILDPLATFORM busybox AS build\nFROM build AS more\nFROM busybox\nCOPY --from=more /x /x\n', { platform: arm, buildPlatform: host });
  t.deepEqual(p.stages.map((s) => s.platform), [host, host, arm]);
  t.is(p.stages[0].globalArgs.get('TARGETPLATFORM'), 'linux/arm64');
  t.is(p.stages[0].globalArgs.get('BUILDPLATFORM'), 'linux/amd64');
  t.deepEqual(plan('FROM --platform=linux/x86_64 busybox\n', { platform: host }).stages[0].platform, host);
  t.throws(() => plan('FROM busybox\nFROM --platform=linux busybox\n', { platform: host }), { instanceOf: DockerfileError, message: /Dockerfile:2: FROM --platform=linux: not a platform/ });
});

test('an unknown --target suggests the closest stage name', (t) => {
  t.throws(() => plan('FROM busybox AS build\nFROM busybox AS release\n', { target: 'relase' }), { instanceOf: UsageError, message: /target stage "relase" could not be found \(did you mean release\?\)/ });
});

test('COPY --from a stage defined later is an error at its line, never an image to pull', (t) => {
  const df = 'FROM busybox AS target\nCOPY --from=build / /out\nFROM busybox AS build\nFROM target\n';
  t.throws(() => plan(df), { instanceOf: DockerfileError, message: /Dockerfile:2: cannot copy from stage "build", it needs to be defined before current stage "target"/ });
  t.throws(() => plan('FROM busybox AS a\nCOPY --from=1 / /\nFROM a\n'), { message: /Dockerfile:2: cannot copy from stage "1", it needs to be defined before current stage "a"/ });
  t.throws(() => plan('FROM busybox\nCOPY --from=7 / /\n'), { instanceOf: DockerfileError, message: /Dockerfile:2: invalid stage index 7/ });
  // A stage that is not built may read from a later one (BuildKit checks built stages only).
  t.notThrows(() => plan('FROM busybox AS unused\nCOPY --from=b / /\nFROM busybox AS b\n'));
});

test('COPY --from with a variable gets BuildKit\'s hint', (t) => {
  t.throws(() => plan('ARG SRC=a\nFROM busybox AS a\nFROM scratch\nCOPY --from=$SRC / /\n'), {
    instanceOf: DockerfileError,
    message: /Dockerfile:4: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround/,
  });
});

test('TARGETSTAGE is the target, else the last stage\'s name, else "default"; a build arg replaces it', (t) => {
  const df = 'FROM scratch AS first\nFROM scratch AS last\n';
  t.is(plan(df, { target: 'first' }).stages[0].globalArgs.get('TARGETSTAGE'), 'first');
  t.is(plan(df).stages[0].globalArgs.get('TARGETSTAGE'), 'last');
  t.is(plan('FROM scratch\n').stages[0].globalArgs.get('TARGETSTAGE'), 'default');
  t.is(plan('FROM scratch AS final\n').stages[0].globalArgs.get('TARGETSTAGE'), 'final');
  t.is(plan('FROM scratch\n', { buildArgs: new Map([['TARGETSTAGE', 'x']]) }).stages[0].globalArgs.get('TARGETSTAGE'), 'x');
});

test('SOURCE_DATE_EPOCH: seconds, context, a source stage, or an error', (t) => {
  const args = (v: string) => ({ buildArgs: new Map([['SOURCE_DATE_EPOCH', v]]) });
  t.deepEqual(plan('FROM scratch\n', args('1700000001')).sourceDateEpoch, { kind: 'seconds', seconds: 1700000001 });
  t.deepEqual(plan('ARG SOURCE_DATE_EPOCH=5\nFROM scratch\n').sourceDateEpoch, { kind: 'seconds', seconds: 5 });
  t.deepEqual(plan('ARG SOURCE_DATE_EPOCH=5\nFROM scratch\n', args('6')).sourceDateEpoch, { kind: 'seconds', seconds: 6 });
  t.deepEqual(plan('FROM scratch\n', args('context')).sourceDateEpoch, { kind: 'context' });
  t.deepEqual(plan('FROM scratch\n').sourceDateEpoch, { kind: 'none' });
  const staged = 'ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nARG V=1\nADD https://example.com/v${V}.tar /\nFROM scratch\n';
  t.deepEqual(plan(staged).sourceDateEpoch, { kind: 'url', url: 'https://example.com/v1.tar', checksum: undefined, stage: 'src' });
  t.throws(() => plan('ARG SOURCE_DATE_EPOCH=nope\nFROM scratch\n'), { instanceOf: DockerfileError, message: /Dockerfile:1: invalid SOURCE_DATE_EPOCH: nope/ });
  t.throws(() => plan('ARG SOURCE_DATE_EPOCH=src\nFROM scratch AS src\nCOPY a /\nFROM scratch\n'), { message: /Dockerfile:2: SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported copy instruction/ });
  t.throws(() => plan('ARG SOURCE_DATE_EPOCH=src\nFROM busybox AS src\nFROM scratch\n'), { message: /SOURCE_DATE_EPOCH stage must use FROM scratch/ });
  // The resolved epoch is what `ARG SOURCE_DATE_EPOCH` sees; resolved to nothing, it is unset.
  t.is(plan(staged, { resolvedSourceDateEpoch: '42' }).stages[0].globalArgs.get('SOURCE_DATE_EPOCH'), '42');
  t.false(plan(staged, { resolvedSourceDateEpoch: null }).stages[0].globalArgs.has('SOURCE_DATE_EPOCH'));
});

test('the resolved SOURCE_DATE_EPOCH changes a plan only where a build arg or global ARG of that name is in play', (t) => {
  const df = (text: string) => parseDockerfile(text, 'Dockerfile');
  const epochArgs = new Map([['SOURCE_DATE_EPOCH', '7']]);
  // Not in play: the build keeps its first plan; planning again with any resolved value gives the same.
  const stageOnly = 'ARG V=1\nFROM busybox AS a\nARG SOURCE_DATE_EPOCH\nRUN echo $SOURCE_DATE_EPOCH $V\nFROM a\nARG SOURCE_DATE_EPOCH=3\nRUN echo $SOURCE_DATE_EPOCH\n';
  const buildArgs = new Map([['V', '2']]);
  t.false(epochArgInPlay(df(stageOnly), buildArgs));
  t.false(epochArgInPlay(df('FROM busybox\n'), undefined));
  const first = plan(stageOnly, { buildArgs });
  for (const resolved of [null, '', '42']) t.deepEqual(plan(stageOnly, { buildArgs, resolvedSourceDateEpoch: resolved }), first, String(resolved));
  // In play: a build arg, or a global ARG (with or without a default).
  t.true(epochArgInPlay(df(stageOnly), epochArgs));
  t.true(epochArgInPlay(df('ARG SOURCE_DATE_EPOCH\nFROM busybox\n'), undefined));
  t.true(epochArgInPlay(df('ARG A=1 SOURCE_DATE_EPOCH=5\nFROM busybox\n'), undefined));
  t.notDeepEqual(plan(stageOnly, { buildArgs: epochArgs, resolvedSourceDateEpoch: '42' }), plan(stageOnly, { buildArgs: epochArgs }));
  const globalEmpty = 'ARG SOURCE_DATE_EPOCH=\nFROM busybox\nARG SOURCE_DATE_EPOCH\n';
  t.notDeepEqual(plan(globalEmpty, { resolvedSourceDateEpoch: null }), plan(globalEmpty));
});

test('proxy build args reach RUN in both spellings; the lowercase one wins', (t) => {
  const env = proxyEnv(new Map([['http_proxy', 'lower'], ['HTTP_PROXY', 'upper'], ['NO_PROXY', 'np'], ['FOO', 'x'], ['ftp_proxy', '']]));
  t.deepEqual([...env].sort(), [['HTTP_PROXY', 'lower'], ['NO_PROXY', 'np'], ['http_proxy', 'lower'], ['no_proxy', 'np']]);
});

test('--build-context: FROM NAME (any spelling of the image name) takes the context; a stage of that name is replaced', (t) => {
  const namedContexts = new Map([
    ['busybox', { kind: 'image' as const, ref: 'alpine:3' }],
    ['base', { kind: 'scratch' as const }],
    ['src', { kind: 'local' as const }],
  ]);
  const p = plan('FROM docker.io/library/busybox:latest AS one\nRUN a\nFROM busybox AS base\nRUN never\nFROM src\nRUN b\nFROM base\nCOPY --from=one /x /x\nCOPY --from=2 /y /y\n', { namedContexts });
  t.deepEqual(p.stages[0].base, { kind: 'image', ref: 'alpine:3' });
  t.is(p.stages[0].stage.instructions.length, 1);
  // the stage `base` is the context: its own FROM and RUN are gone, no triggers, nothing it reads
  t.is(p.stages[1].namedContext, 'base');
  t.deepEqual(p.stages[1].base, { kind: 'scratch' });
  t.deepEqual(p.stages[1].stage.instructions, []);
  // a folder context starts its stage with a copy of it, at the FROM line
  t.deepEqual(p.stages[2].base, { kind: 'scratch' });
  const first = p.stages[2].stage.instructions[0];
  t.is(first.kind, 'copy');
  t.is(first.kind === 'copy' ? first.from : undefined, 'src');
  t.is(first.source.range.start.line, 5);
  t.is(p.stages[2].stage.instructions[1].kind, 'run');
  t.deepEqual(p.stages[3].base, { kind: 'stage', index: 1 });
  // without contexts the same names are images
  t.deepEqual(plan('FROM busybox\n').stages[0].base, { kind: 'image', ref: 'busybox' });
});

// BuildKit (dockerfile2llb addState/statesByName): a FROM takes the last stage of the name defined
// before it; --from, from= and --target take the last stage of the name in the file.
test('duplicate stage names: FROM takes the last one before it, --from and --target the last one', (t) => {
  const text = 'FROM busybox AS b\nFROM b AS c\nFROM busybox AS b\nFROM scratch\nCOPY --from=b /x /x\nCOPY --from=c /y /y\n';
  const p = plan(text);
  t.deepEqual(p.stages.find((s) => s.stage.index === 1)?.base, { kind: 'stage', index: 0 });
  t.deepEqual(p.stages.find((s) => s.stage.index === 3)?.dependsOn.sort(), [1, 2]);
  t.is(plan(text, { target: 'b' }).target, 2);
});

test('the planner resolves each --from once: a stage by name or index, a named context first, else an image', (t) => {
  const p = plan(
    'FROM busybox AS a\nFROM busybox AS ctx\nFROM scratch\nCOPY --from=a /x /x\nCOPY --from=0 /y /y\nCOPY --from=alpine:3 /z /z\nRUN --mount=from=ctx,target=/c true\n',
    { namedContexts: new Map([['ctx', { kind: 'local' as const }]]) },
  );
  const last = p.stages.find((s) => s.stage.index === 2);
  t.deepEqual(Object.fromEntries(last?.sources ?? []), {
    a: { kind: 'stage', index: 0 },
    '0': { kind: 'stage', index: 0 },
    'alpine:3': { kind: 'image', ref: 'alpine:3' },
    ctx: { kind: 'context', key: 'ctx' },
  });
});
