// BuildKit's frontend/dockerfile/dockerfile_args_test.go, ported (README.md).
import test from 'ava';
import { bkBuild, bkBuildError, bkBuildLocal, readText } from './harness.js';

test('testGlobalArg', async (t) => {
  const r = await bkBuild({
    dockerfile: `
ARG tag=nosuchtag
FROM busybox:\${tag}
`,
    args: ['--build-arg', 'tag=latest'],
  });
  t.is(r.code, 0, r.stderr);
});

test('testGlobalArgErrors', async (t) => {
  const dockerfile = `
ARG FOO=\${FOO:?"custom error"}
FROM busybox
`;
  const err = await bkBuildError({ dockerfile });
  t.true(err.includes('FOO: custom error'), err);

  const r = await bkBuild({ dockerfile, args: ['--build-arg', 'FOO=bar'] });
  t.is(r.code, 0, r.stderr);
});

test('testArgDefaultExpansion', async (t) => {
  const dockerfile = `
FROM scratch
ARG FOO
ARG BAR=\${FOO:?"foo missing"}
`;
  const err = await bkBuildError({ dockerfile });
  t.true(err.includes('FOO: foo missing'), err);

  let r = await bkBuild({ dockerfile, args: ['--build-arg', 'FOO=123'] });
  t.is(r.code, 0, r.stderr);

  r = await bkBuild({ dockerfile, args: ['--build-arg', 'BAR=123'] });
  t.is(r.code, 0, r.stderr);
});

test('testMultiArgs', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
ARG a1="foo bar" a2=box
ARG a3="$a2-foo"
FROM busy$a2 AS build
ARG a3 a4="123 456" a1
RUN echo -n "$a1:$a3:$a4" > /out
FROM scratch
COPY --from=build /out .
`,
  });
  t.is(readText(out, 'out'), 'foo bar:box-foo:123 456');
});

test('testQuotedMetaArgs', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
ARG a1="box"
ARG a2="$a1-foo"
FROM busy$a1 AS build
ARG a2
ARG a3="bar-$a2"
RUN echo -n $a3 > /out
FROM scratch
COPY --from=build /out .
`,
  });
  t.is(readText(out, 'out'), 'bar-box-foo');
});

test('testTargetStageNameArg', async (t) => {
  // BuildKit's base is alpine; the test only needs a shell.
  let dockerfile = `
FROM busybox AS base
WORKDIR /out
RUN echo -n "value:$TARGETSTAGE" > /out/first
ARG TARGETSTAGE
RUN echo -n "value:$TARGETSTAGE" > /out/second

FROM scratch AS foo
COPY --from=base /out/ /

FROM scratch
COPY --from=base /out/ /
`;
  let out = await bkBuildLocal({ dockerfile, args: ['--target', 'foo'] });
  t.is(readText(out, 'first'), 'value:');
  t.is(readText(out, 'second'), 'value:foo');

  out = await bkBuildLocal({ dockerfile });
  t.is(readText(out, 'first'), 'value:');
  t.is(readText(out, 'second'), 'value:default');

  // stage name defined in Dockerfile but not passed in request
  dockerfile += `

	FROM scratch AS final
	COPY --from=base /out/ /
	`;
  out = await bkBuildLocal({ dockerfile });
  t.is(readText(out, 'first'), 'value:');
  t.is(readText(out, 'second'), 'value:final');
});

test('testBuiltinArgs', async (t) => {
  const dockerfile = `
FROM busybox AS build
ARG FOO
ARG BAR
ARG BAZ=bazcontent
RUN echo -n $HTTP_PROXY::$NO_PROXY::$FOO::$BAR::$BAZ > /out
FROM scratch
COPY --from=build /out /

`;
  let out = await bkBuildLocal({ dockerfile, args: ['--build-arg', 'FOO=foocontents', '--build-arg', 'http_proxy=hpvalue', '--build-arg', 'NO_PROXY=npvalue'] });
  t.is(readText(out, 'out'), 'hpvalue::npvalue::foocontents::::bazcontent');

  // repeat with changed default args should match the old cache
  out = await bkBuildLocal({ dockerfile, args: ['--build-arg', 'FOO=foocontents', '--build-arg', 'http_proxy=hpvalue2'] });
  t.is(readText(out, 'out'), 'hpvalue::npvalue::foocontents::::bazcontent');

  // changing actual value invalidates cache
  out = await bkBuildLocal({ dockerfile, args: ['--build-arg', 'FOO=foocontents2', '--build-arg', 'http_proxy=hpvalue2'] });
  t.is(readText(out, 'out'), 'hpvalue2::::foocontents2::::bazcontent');
});

test('testDefaultEnvWithArgs', async (t) => {
  const dockerfile = `
ARG image=idlebox
FROM busy\${image#idle} AS build
ARG my_arg
ENV my_arg "my_arg=\${my_arg:-def_val}"
ENV my_trimmed_arg "\${my_arg%%e*}"
COPY myscript.sh myscript.sh
RUN ./myscript.sh $my_arg $my_trimmed_arg
FROM scratch
COPY --from=build /out /out
`;
  const script = `
#!/usr/bin/env sh
echo -n $my_arg $* > /out
`;
  const cases: { name: string; args: string[]; expected: string }[] = [
    { name: 'nil', args: [], expected: 'my_arg=def_val my_arg=def_val my_arg=d' },
    { name: 'empty', args: ['--build-arg', 'my_arg='], expected: 'my_arg=def_val my_arg=def_val my_arg=d' },
    { name: 'override', args: ['--build-arg', 'my_arg=override'], expected: 'my_arg=override my_arg=override my_arg=ov' },
  ];
  for (const c of cases) {
    const out = await bkBuildLocal({ dockerfile, files: { 'myscript.sh': { content: script, mode: 0o700 } }, args: c.args });
    t.is(readText(out, 'out'), c.expected, c.name);
  }
});

test('testEmptyStringArgInEnv', async (t) => {
  const out = await bkBuildLocal({
    dockerfile: `
FROM busybox AS build
ARG FOO
ARG BAR=
RUN env > env.txt

FROM scratch
COPY --from=build env.txt .
`,
  });
  const env = readText(out, 'env.txt');
  t.true(env.includes('BAR='), env);
  t.false(env.includes('FOO='), env);
});

test('testEnvEmptyFormatting', async (t) => {
  const r = await bkBuild({
    dockerfile: `
FROM busybox AS build
ENV myenv foo%sbar
RUN [ "$myenv" = 'foo%sbar' ]
`,
  });
  t.is(r.code, 0, r.stderr);
});
