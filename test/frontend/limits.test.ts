// nbuild's bounds on what a Dockerfile may make it do (src/frontend/dockerfile/limits.ts): each
// crossing is one DockerfileError at the line that crossed it, found quickly, in the front end
// and the planner alike (`nbuild check` runs both without building).
import test from 'ava';
import { parseDockerfile, processWord, expandInstruction, ShellExpansionError } from '../../src/frontend/dockerfile/index.js';
import { MAX_STAGES, MAX_STEPS, MAX_WORD_LENGTH } from '../../src/frontend/dockerfile/limits.js';
import { planBuild } from '../../src/planner/plan.js';
import { checkStatically } from '../../src/planner/static-check.js';
import { DockerfileError } from '../../src/errors.js';

const MiB = 1 << 20;

const TIMES_TEN = (kw: string): string => `${kw} A=${'${A}'.repeat(10)}\n`;

/** `ENV A=x` on line 2, then `ENV A=${A}…` (ten times) n times: 10^k characters on line k+2. */
function bomb(n: number): string {
  return 'FROM scratch\nENV A=x\n' + TIMES_TEN('ENV').repeat(n);
}

test('a word stops growing at 1 MiB: ${A}${A}… fails fast instead of filling memory', (t) => {
  const half = 'x'.repeat(MAX_WORD_LENGTH / 2 + 1);
  const env = (name: string): string | undefined => (name === 'A' ? half : undefined);
  t.is(processWord('${A}', env).length, half.length);
  const started = Date.now();
  const e = t.throws(() => processWord('${A}${A}${A}${A}${A}${A}${A}${A}${A}${A}', env), { instanceOf: ShellExpansionError });
  t.true(e.limit);
  t.regex(e.message, /longer than 1048576 characters/);
  t.true(Date.now() - started < 2000);
  // in double quotes and through ${A/x/…} replacement too
  t.throws(() => processWord('"$A$A"', env), { message: /longer than 1048576/ });
  t.throws(() => processWord('${A//x/yy}', env), { message: /longer than 1048576/ });
  t.is(processWord('${A/x/yy}', env).length, half.length + 1);
});

test('all the words of one instruction together are bounded too (LABEL a=$B b=$B …)', (t) => {
  const big = 'y'.repeat(MAX_WORD_LENGTH / 2); // each word fits, the three do not
  const df = parseDockerfile('FROM scratch\nLABEL a=$B b=$B c=$B\n', 'Dockerfile');
  const label = df.stages[0].instructions[0];
  t.notThrows(() => expandInstruction(label, (n) => (n === 'B' ? 'short' : undefined), '\\'));
  const e = t.throws(() => { expandInstruction(label, (n) => (n === 'B' ? big : undefined), '\\'); }, { instanceOf: DockerfileError });
  t.is(e.message, `Dockerfile:2: LABEL: the instruction's words expand to more than ${MAX_WORD_LENGTH} characters (1 MiB) in all, nbuild's limit`);
  t.is(e.code, 'LIMIT');
});

test('nbuild check finds the expansion bomb at its line, in seconds', (t) => {
  const df = parseDockerfile(bomb(9), 'Dockerfile');
  const started = Date.now();
  const e = t.throws(() => checkStatically(df), { instanceOf: DockerfileError });
  t.regex(e.message, /^Dockerfile:9: ENV: the expanded word is longer than 1048576 characters/); // 10^7 > 1 MiB
  t.true(Date.now() - started < 5000, `${Date.now() - started} ms`);
  // The same bomb through a global ARG that FROM reads, and through a stage built FROM the first.
  t.throws(() => checkStatically(parseDockerfile('ARG A=x\n' + TIMES_TEN('ARG').repeat(8) + 'FROM $A\n', 'Dockerfile')), {
    message: /^Dockerfile:8: .*longer than 1048576/,
  });
  const chained = 'FROM scratch AS one\nENV A=x\n' + TIMES_TEN('ENV').repeat(4) + 'FROM one\n' + TIMES_TEN('ENV').repeat(4);
  t.throws(() => checkStatically(parseDockerfile(chained, 'Dockerfile')), { message: /^Dockerfile:10: ENV: .*longer than 1048576/ });
});

test("a stage's ENV is bounded in all, not only word by word", (t) => {
  const lines = Array.from({ length: 6 }, (_, i) => `ENV K${i}=${'$V'}`).join('\n');
  const df = parseDockerfile(`FROM scratch\nARG V=${'x'.repeat(60_000)}\nENV V=\${V}\${V}\${V}\${V}\n${lines}\n`, 'Dockerfile');
  // V is 240,000 characters; with K0..K3 the ENV passes 1 MiB on line 7
  const e = t.throws(() => checkStatically(df), { instanceOf: DockerfileError });
  t.regex(e.message, /^Dockerfile:7: ENV: the stage's environment is longer than 1048576 characters/);
});

test('check stays quiet about what only the build can know: FROM $BASE, ${V:?} of a build arg', (t) => {
  t.notThrows(() => checkStatically(parseDockerfile('ARG BASE\nFROM $BASE\nARG V\nENV X="${V:?give V}"\nCOPY --from=${BASE} / /\n', 'Dockerfile')));
  t.notThrows(() => checkStatically(parseDockerfile('FROM --platform=linux/s390x busybox\nRUN true\n', 'Dockerfile')));
});

test('COPY --from a later stage, itself or a cycle is an error at its line (BuildKit), not an image pull', (t) => {
  const self = t.throws(() => planBuild(parseDockerfile('FROM busybox AS a\nCOPY --from=a /x /y\n', 'Dockerfile')), { instanceOf: DockerfileError });
  t.is(self.message, 'Dockerfile:2: circular dependency detected on stage: a (COPY --from=a)');
  const cycle = 'FROM busybox AS s0\nCOPY --from=s2 f1 /sub/\nFROM busybox AS s1\nCOPY --from=s0 f2 /sub/\nFROM busybox AS s2\nCOPY --from=s1 f2 /sub/\n';
  t.throws(() => planBuild(parseDockerfile(cycle, 'Dockerfile')), { message: 'Dockerfile:2: circular dependency detected on stage: s0 (COPY --from=s2)' });
  t.throws(() => checkStatically(parseDockerfile(cycle, 'Dockerfile')), { message: /^Dockerfile:2: circular dependency/ });
  t.throws(() => planBuild(parseDockerfile('FROM busybox AS a\nCOPY --from=b /x /y\nFROM busybox AS b\n', 'Dockerfile')), {
    message: 'Dockerfile:2: COPY --from=b: cannot copy from stage "b", it needs to be defined before current stage "a"',
  });
  t.throws(() => planBuild(parseDockerfile('FROM busybox\nRUN --mount=from=0,target=/m true\n', 'Dockerfile')), { message: /^Dockerfile:2: circular dependency detected on stage: 0/ });
  t.throws(() => planBuild(parseDockerfile('FROM busybox\nCOPY --from=7 /x /y\n', 'Dockerfile')), { message: /^Dockerfile:2: COPY --from=7: invalid stage index 7/ });
  // earlier stages and images are fine
  const ok = planBuild(parseDockerfile('FROM busybox AS a\nFROM scratch\nCOPY --from=a /x /y\nCOPY --from=alpine /z /z\n', 'Dockerfile'));
  t.deepEqual(ok.stages[1].dependsOn, [0]);
});

test('cache and secret uid/gid/mode and tmpfs size out of range are errors at the line (parse time, so check too)', (t) => {
  const bad = [
    ['RUN --mount=type=cache,target=/c,uid=4294967296 true', /invalid value for uid: 4294967296 is out of range \(at most 4294967294\)/],
    ['RUN --mount=type=cache,target=/c,gid=99999999999999999999 true', /invalid value for gid: .* is out of range/],
    ['RUN --mount=type=cache,target=/c,mode=777777 true', /invalid value for mode: 777777 is out of range \(at most 07777\)/],
    ['RUN --mount=type=secret,id=s,uid=4294967295 true', /invalid value for uid/],
    ['RUN --mount=type=tmpfs,target=/t,size=99999999999p true', /invalid value for size: 99999999999p is too large \(at most 8 PiB\)/],
    ['RUN --mount=type=tmpfs,target=/t,size=1e400 true', /invalid value for size: 1e400/],
  ] as const;
  for (const [line, message] of bad) {
    const e = t.throws(() => parseDockerfile(`FROM busybox\n${line}\n`, 'Dockerfile'), { instanceOf: DockerfileError }, line);
    t.regex(e.message, /^Dockerfile:2: /);
    t.regex(e.message, message);
  }
  const ok = parseDockerfile('FROM busybox\nRUN --mount=type=cache,target=/c,uid=4294967294,mode=0700 --mount=type=tmpfs,target=/t,size=8g true\n', 'Dockerfile');
  t.is(ok.stages[0].instructions.length, 1);
});

test('stage and instruction counts are bounded, with the line of the first one over', (t) => {
  const stages = Array.from({ length: MAX_STAGES + 1 }, () => 'FROM scratch').join('\n') + '\n';
  t.throws(() => parseDockerfile(stages, 'Dockerfile'), { message: new RegExp(`^Dockerfile:${MAX_STAGES + 1}: more than ${MAX_STAGES} build stages`) });
  t.notThrows(() => parseDockerfile(Array.from({ length: MAX_STAGES }, () => 'FROM scratch').join('\n'), 'Dockerfile'));
  const steps = 'FROM scratch\n' + 'LABEL a=b\n'.repeat(MAX_STEPS);
  t.throws(() => parseDockerfile(steps, 'Dockerfile'), { message: new RegExp(`^Dockerfile:${MAX_STEPS + 1}: more than ${MAX_STEPS} instructions`) });
});

test('10,000 chained stages plan without overflowing the stack', (t) => {
  const lines = ['FROM scratch AS s0'];
  for (let i = 1; i < MAX_STAGES; i++) lines.push(`FROM s${i - 1} AS s${i}`);
  const df = parseDockerfile(lines.join('\n') + '\n', 'Dockerfile');
  const plan = planBuild(df);
  t.is(plan.stages.length, MAX_STAGES);
  t.notThrows(() => checkStatically(df));
});

test('parsing and planning grow linearly with the number of instructions', (t) => {
  const time = (n: number): number => {
    const text = 'FROM scratch\n' + Array.from({ length: n }, (_, i) => `# comment ${i}\nLABEL l${i}=v${i}`).join('\n') + '\n';
    const started = process.hrtime.bigint();
    const df = parseDockerfile(text, 'Dockerfile');
    checkStatically(df);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  time(5_000); // warm up
  const small = time(20_000);
  const large = time(80_000);
  t.log(`20k: ${small.toFixed(0)} ms, 80k: ${large.toFixed(0)} ms`);
  // 4× the input: linear is ~4×, quadratic 16×; leave room for a noisy machine.
  t.true(large < small * 9, `20k: ${small} ms, 80k: ${large} ms`);
});
