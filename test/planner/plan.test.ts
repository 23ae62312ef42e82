import test from 'ava';
import { parseDockerfile } from '../../src/frontend/dockerfile/index.js';
import { planBuild } from '../../src/planner/plan.js';
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
