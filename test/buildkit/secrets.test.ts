// BuildKit's frontend/dockerfile/dockerfile_secrets_test.go, ported (test/buildkit/README.md).
// BuildKit's session secret provider `FromMap({mysecret: "pw"})` is `--secret id=mysecret,src=FILE`.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuild } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

function secretArgs(secrets: Record<string, string>): string[] {
  const dir = tempDir('bk-secret');
  return Object.entries(secrets).flatMap(([id, value]) => {
    const file = path.join(dir, id);
    fs.writeFileSync(file, value);
    return ['--secret', `id=${id},src=${file}`];
  });
}

// A secret mounted with mode, uid and gid has them, and leaves no stub file behind.
test('testSecretFileParams', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --mount=type=secret,required=false,mode=741,uid=100,gid=102,target=/mysecret [ "$(stat -c "%u %g %f" /mysecret)" = "100 102 81e1" ]
RUN [ ! -f /mysecret ] # check no stub left behind
`,
    args: secretArgs({ mysecret: 'pw' }),
  });
  t.is(r.code, 0, r.stderr);
});

// A required secret that the client does not give fails the build.
test('testSecretRequiredWithoutValue', async (t) => {
  const r = await bkBuild({
    dockerfile: `FROM busybox 
		RUN --mount=type=secret,required,id=mysecret foo`,
  });
  t.not(r.code, 0);
  t.true(r.stderr.includes('secret mysecret: not found'), r.stderr);
});

// A secret given as env= is in the environment, not a file, and its value is masked in the step's name.
test('testSecretAsEnviron', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
ENV SECRET_ENV=foo
RUN --mount=type=secret,id=mysecret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ ! -f /run/secrets/mysecret ] || false
`,
    args: secretArgs({ mysecret: 'pw' }),
  });
  t.is(r.code, 0, r.stderr);
  // The step's name as the progress shows it (BuildKit's vertex name).
  const names = r.stderr.split('\n').filter((l) => /^#\d+ \[/.test(l) && l.includes('/run/secrets/mysecret'));
  t.true(names.length > 0, r.stderr);
  for (const name of names) t.true(name.includes('[ "****" == "pw" ] && '), name);
});

// A secret with both env= and target= is in the environment and a file.
test('testSecretAsEnvironWithFileMount', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox
RUN --mount=type=secret,id=mysecret,target=/run/secrets/secret,env=SECRET_ENV [ "$SECRET_ENV" == "pw" ] && [ -f /run/secrets/secret ] || false
`,
    args: secretArgs({ mysecret: 'pw' }),
  });
  t.is(r.code, 0, r.stderr);
});
