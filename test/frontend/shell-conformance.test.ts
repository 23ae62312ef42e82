import test from 'ava';
import { join } from 'node:path';
import { envFromList, processWord, processWords, processWordWithMatches } from '../../src/frontend/dockerfile/shell.js';
import { conformanceDir, readJson, readText, reportMissing } from './conformance.js';

const lookup = (env: Record<string, string>) => (name: string): string | undefined => (Object.hasOwn(env, name) ? env[name] : undefined);

function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch {
    return 'error';
  }
}

if (!conformanceDir) reportMissing(test, 'shell conformance');
else {
  const dir = join(conformanceDir, 'buildkit-shell');

  test('envVarTest: ProcessWord (Linux: A and U lines)', (t) => {
    const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
    let run = 0;
    let skipped = 0;
    for (const line of readText(join(dir, 'envVarTest')).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const [platform, input, expected] = line.split('|').map((f) => f.trim());
      if (platform === 'W') {
        skipped++; // Windows-only: case-insensitive variable names
        continue;
      }
      t.is(attempt(() => processWord(input, env, '\\')), expected, `input ${input}`);
      run++;
    }
    t.log(`envVarTest: ${run} cases passed, ${skipped} Windows-only lines skipped`);
  });

  test('wordsTest: ProcessWords with accumulated ENV', (t) => {
    const envs: string[] = [];
    let run = 0;
    for (const line of readText(join(dir, 'wordsTest')).split('\n')) {
      if (line.startsWith('#') || line === '') continue;
      if (line.startsWith('ENV ')) {
        envs.push(line.slice(4).replace(/^ +/, ''));
        continue;
      }
      const [input, rawExpected] = line.split('|');
      const expected = rawExpected.replace(/^ +/, '');
      const got = attempt(() => processWords(input.trim(), envFromList(envs), '\\'));
      t.deepEqual(got, expected === 'error' ? 'error' : expected.split(','), `input ${input}`);
      run++;
    }
    t.log(`wordsTest: ${run} cases passed`);
  });

  interface MatchCase { input: string; env: Record<string, string>; expect: string; matched?: string[]; unmatched?: string[]; errorContains?: string }
  const cases = readJson<{ processWordWithMatches: { cases: MatchCase[] }; mandatoryEnvVars: { cases: MatchCase[] }; platformReleaseName: { input: string; cases: MatchCase[] }; getEnv: { cases: { env: string[]; name: string; expect: string }[] } }>(join(dir, 'process-word-cases.json'));

  test('process-word-cases: processWordWithMatches (patterns, matched/unmatched names)', (t) => {
    for (const c of cases.processWordWithMatches.cases) {
      const got = attempt(() => processWordWithMatches(c.input, lookup(c.env)));
      if (c.expect === 'error') {
        t.is(got, 'error', c.input);
        continue;
      }
      const r = got as ReturnType<typeof processWordWithMatches>;
      t.is(r.result, c.expect, c.input);
      t.deepEqual([...r.matched].sort(), [...(c.matched ?? [])].sort(), `${c.input} matched`);
      t.deepEqual([...r.unmatched].sort(), [...(c.unmatched ?? [])].sort(), `${c.input} unmatched`);
    }
    t.log(`processWordWithMatches: ${cases.processWordWithMatches.cases.length} cases passed`);
  });

  test('process-word-cases: mandatory vars, platform release names, env lists', (t) => {
    for (const c of cases.mandatoryEnvVars.cases) {
      if (c.expect === 'error') {
        const err = t.throws(() => processWord(c.input, lookup(c.env)));
        t.true(err?.message.includes(c.errorContains ?? ''), err?.message);
      } else t.is(processWord(c.input, lookup(c.env)), c.expect);
    }
    for (const c of cases.platformReleaseName.cases) t.is(processWord(cases.platformReleaseName.input, lookup(c.env)), c.expect);
    for (const c of cases.getEnv.cases) t.is(envFromList(c.env)(c.name) ?? '', c.expect);
  });
}
