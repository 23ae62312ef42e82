// The whole `nbuild build` option table, walked: every entry is either implemented, with a real
// behaviour assertion here (run as the unprivileged user, on a busybox store), or refused with one
// line naming it. A new option without a check here fails the walk.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BUILD_OPTIONS } from '../../src/cli/build-options.js';
import { hasCommand, nbuild, storeWithBusybox, tempDir, writeFiles, type RunResult } from '../helpers/nbuild-cli.js';
import { FakeRegistry } from '../registry/helpers/fake-registry.js';
import { startTestAgent } from '../helpers/ssh-agent.js';
import { endPodmanPause, podmanPausePid } from '../helpers/podman.js';
import { haveDistribution, startDistribution } from '../registry/helpers/distribution.js';
import type { Descriptor as Desc } from '../helpers/oci.js';

let root: string;
test.before(async () => {
  root = await storeWithBusybox();
});

async function buildIn(files: Record<string, string>, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult & { ctx: string }> {
  const ctx = tempDir('opt-ctx');
  writeFiles(ctx, files);
  const r = await nbuild(['--root', root, 'build', ...args, ctx], opts);
  return { ...r, ctx };
}

async function ok(files: Record<string, string>, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult & { ctx: string }> {
  const r = await buildIn(files, args, opts);
  if (r.code !== 0) throw new Error(`build ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

async function local(files: Record<string, string>, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const out = path.join(tempDir('opt-out'), 'fs');
  await ok(files, [...args, '-o', out], opts);
  return out;
}

async function inspect(name: string): Promise<{ Config: { Labels?: Record<string, string> }; Manifest: { annotations?: Record<string, string> } }> {
  const r = await nbuild(['--root', root, 'inspect', name]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout)[0];
}

const RUN_DF = (cmd: string) => ({ Dockerfile: `FROM busybox:latest\nRUN ${cmd}\n` });

interface Statement {
  _type: string;
  predicateType: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicate: Record<string, any>;
}

/** An OCI layout's top entry, the index it names, and the statements of its attestation manifests. */
function readAttested(dir: string): { top: Desc; entries: Desc[]; attestations: { entry: Desc; layers: Desc[]; statements: Statement[] }[]; blob: (digest: string) => any } {
  const blob = (d: string) => JSON.parse(fs.readFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const top = (JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: Desc[] }).manifests[0];
  const entries: Desc[] = top.mediaType.endsWith('index.v1+json') ? blob(top.digest).manifests : [top];
  const attestations = entries
    .filter((e) => e.platform?.os === 'unknown')
    .map((entry) => {
      const layers = blob(entry.digest).layers as Desc[];
      return { entry, layers, statements: layers.map((l) => blob(l.digest) as Statement) };
    });
  return { top, entries, attestations, blob };
}

async function attested(files: Record<string, string>, args: string[]): Promise<ReturnType<typeof readAttested>> {
  const dest = path.join(tempDir('opt-att'), 'layout');
  await ok(files, [...args, '-o', `type=oci-layout,dest=${dest}`]);
  return readAttested(dest);
}
const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;
const uniq = () => Math.random().toString(36).slice(2, 10);

type Check = (t: import('ava').ExecutionContext) => Promise<void>;

/** One behaviour assertion per implemented option. */
const CHECKS: Record<string, Check> = {
  file: async (t) => {
    const elsewhere = path.join(tempDir('opt-df'), 'other.Dockerfile');
    fs.writeFileSync(elsewhere, 'FROM busybox:latest\nRUN echo other > /which\n');
    const out = await local({ Dockerfile: 'FROM scratch\n' }, ['-f', elsewhere]);
    t.is(fs.readFileSync(path.join(out, 'which'), 'utf8'), 'other\n');
  },
  tag: async (t) => {
    const name = `opt-tag-${uniq()}:v1`;
    await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['-t', name]);
    t.truthy(await inspect(name));
  },
  'build-arg': async (t) => {
    const out = await local({ Dockerfile: 'FROM busybox:latest\nARG X\nRUN echo "$X" > /x\n' }, ['--build-arg', 'X=given']);
    t.is(fs.readFileSync(path.join(out, 'x'), 'utf8'), 'given\n');
  },
  target: async (t) => {
    const out = await local({ Dockerfile: 'FROM busybox:latest AS one\nRUN echo one > /s\nFROM busybox:latest\nRUN echo two > /s\n' }, ['--target', 'one']);
    t.is(fs.readFileSync(path.join(out, 's'), 'utf8'), 'one\n');
  },
  label: async (t) => {
    const name = `opt-label-${uniq()}:1`;
    await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['--label', 'team=builders', '-t', name]);
    t.is((await inspect(name)).Config.Labels?.team, 'builders');
  },
  'no-cache': async (t) => {
    const files = RUN_DF(`echo ${uniq()} > /n`);
    await ok(files, ['--progress', 'plain']);
    const again = await ok(files, ['--progress', 'plain', '--no-cache']);
    t.notRegex(again.stderr, /CACHED/);
  },
  'no-cache-filter': async (t) => {
    const id = uniq();
    const files = { Dockerfile: `FROM busybox:latest AS a\nRUN echo a${id} > /a\nFROM busybox:latest AS b\nCOPY --from=a /a /a\nRUN echo b${id} > /b\n` };
    await ok(files, ['--progress', 'plain']);
    const again = await ok(files, ['--progress', 'plain', '--no-cache-filter', 'b']);
    t.regex(again.stderr, /\[a 2\/2\] RUN[^\n]*\n#\d+ CACHED/);
    t.notRegex(again.stderr, /\[b 3\/3\] RUN[^\n]*\n#\d+ CACHED/);
    const bad = await buildIn(files, ['--no-cache-filter', 'nope']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--no-cache-filter nope: no stage/);
  },
  pull: async (t) => {
    const never = await buildIn({ Dockerfile: 'FROM not-in-store-nbuild-test:1\n' }, ['--pull=never']);
    t.is(never.code, 1);
    t.regex(never.stderr, /not-in-store-nbuild-test:1 is not in the local store/);
    const bad = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--pull=sometimes']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--pull sometimes: expected always, missing or never/);
  },
  output: async (t) => {
    const dir = await local(RUN_DF('echo folder > /f'), []);
    t.is(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'folder\n');
    const ctx = tempDir('opt-ctx');
    writeFiles(ctx, RUN_DF('echo piped > /p'));
    const tarFile = path.join(tempDir('opt-out'), 'out.tar');
    execFileSync('sh', ['-c', `"$0" --root "$1" build -q -o - "$2" > "$3"`, path.join(process.cwd(), 'bin', 'nbuild'), root, ctx, tarFile]);
    t.regex(execFileSync('tar', ['-xOf', tarFile, 'p']).toString(), /piped/);
    const name = `opt-image-${uniq()}:1`;
    await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['-o', `type=image,name=${name},push=false`]);
    t.truthy(await inspect(name));
    const unknown = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['-o', 'type=oci,dest=x.tar,frobnicate=1']);
    t.is(unknown.code, 2);
    t.regex(unknown.stderr, /--output frobnicate=…: not supported/);
  },
  push: async (t) => {
    const reg = await new FakeRegistry({ auth: 'basic', users: { u: 'pw' } }).start();
    try {
      const r = await buildIn({ Dockerfile: 'FROM busybox:latest\nRUN echo pushed > /p\n' }, ['--push', '-t', `${reg.host}/opt/pushed:1`, '--tls-verify=false', '--creds', 'u:pw']);
      t.is(r.code, 0, r.stderr);
      t.truthy(reg.manifests.get('opt/pushed@1'));
    } finally {
      await reg.close();
    }
  },
  load: async (t) => {
    // The test user has no docker daemon: podman loads it, run by the launcher outside nbuild's user
    // namespace (a podman of its own: a fresh HOME and runtime folder).
    const home = tempDir('opt-podman-home');
    const podmanEnv = { HOME: home, XDG_RUNTIME_DIR: tempDir('opt-podman-run') };
    const tmp = tempDir('opt-load-tmp');
    const name = `opt-load-${uniq()}:1`;
    try {
      const r = await buildIn({ Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} > /l\n` }, ['--load', '-t', name], { env: { ...podmanEnv, TMPDIR: tmp } });
      if (!hasCommand('podman')) {
        t.is(r.code, 1);
        t.regex(r.stderr, /^nbuild: --load: no docker daemon reachable/m);
        return;
      }
      t.is(r.code, 0, r.stderr);
      t.regex(r.stderr, new RegExp(`Loaded image: docker.io/library/${name}`));
      const listed = execFileSync('podman', ['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { env: { ...process.env, ...podmanEnv } }).toString();
      t.true(listed.includes(`docker.io/library/${name} ${r.stdout.trim()}`), listed);
      // docker and podman load plain tars: the build's layer is not compressed for them.
      const stored = await nbuild(['--root', root, 'inspect', '--format', '{{json .Manifest.layers}}', name]);
      t.is((JSON.parse(stored.stdout) as Desc[]).at(-1)?.mediaType, 'application/vnd.oci.image.layer.v1.tar');
      t.deepEqual(fs.readdirSync(tmp), [], 'the archive is removed after loading');
      // podman failing: one line, exit 1, the archive removed all the same.
      const bad = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--load'], { env: { HOME: path.join(home, 'missing'), XDG_RUNTIME_DIR: podmanEnv.XDG_RUNTIME_DIR, TMPDIR: tmp } });
      t.is(bad.code, 1);
      t.regex(bad.stderr, /^nbuild: --load: podman load failed: .+$/m);
      t.is(bad.stderr.trim().split('\n').filter((l) => l.startsWith('nbuild:')).length, 1, bad.stderr);
      t.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      endPodmanPause(podmanPausePid(podmanEnv.XDG_RUNTIME_DIR));
    }
  },
  quiet: async (t) => {
    const r = await ok({ Dockerfile: 'FROM busybox:latest\nRUN true\n' }, ['-q', '--no-cache']);
    t.regex(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    t.is(r.stderr, '');
  },
  iidfile: async (t) => {
    const file = path.join(tempDir('opt-out'), 'iid');
    const r = await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['--iidfile', file]);
    t.is(fs.readFileSync(file, 'utf8'), r.stdout.trim());
  },
  'metadata-file': async (t) => {
    const file = path.join(tempDir('opt-out'), 'meta.json');
    const r = await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['--metadata-file', file]);
    t.is(JSON.parse(fs.readFileSync(file, 'utf8'))['containerimage.config.digest'], r.stdout.trim());
  },
  progress: async (t) => {
    const files = RUN_DF(`echo ${uniq()}`);
    const plain = await ok(files, ['--progress', 'plain']);
    t.regex(plain.stderr, /^#1 \[/m);
    const env = await ok(RUN_DF(`echo ${uniq()}`), [], { env: { BUILDKIT_PROGRESS: 'plain' } });
    t.regex(env.stderr, /^#1 \[/m);
  },
  secret: async (t) => {
    const ctx = tempDir('opt-secret');
    fs.writeFileSync(path.join(ctx, 's.txt'), 'from-file');
    const out = await local(
      { Dockerfile: 'FROM busybox:latest\nRUN --mount=type=secret,id=a,env=A --mount=type=secret,id=b cat /run/secrets/b > /b && echo "$A" > /a\n' },
      ['--no-cache', '--secret', 'id=a,env=NB_SECRET_A', '--secret', `id=b,src=${path.join(ctx, 's.txt')}`],
      { env: { NB_SECRET_A: 'from-env' } },
    );
    t.is(fs.readFileSync(path.join(out, 'a'), 'utf8'), 'from-env\n');
    t.is(fs.readFileSync(path.join(out, 'b'), 'utf8'), 'from-file');
  },
  ssh: async (t) => {
    // In depth (agent protocol, ownership, errors): test/behaviour/ssh-mount.test.ts (the --ssh values: test/e2e/ssh-mount.test.ts).
    const agent = await startTestAgent();
    try {
      const out = await local(RUN_DF(`--mount=type=ssh echo ${uniq()}; test -S "$SSH_AUTH_SOCK" && echo forwarded > /s`), ['--ssh', `default=${agent.socket}`]);
      t.is(fs.readFileSync(path.join(out, 's'), 'utf8'), 'forwarded\n');
    } finally {
      agent.stop();
    }
  },
  'cache-to': async (t) => {
    const id = uniq();
    const files = { Dockerfile: `FROM busybox:latest AS b\nRUN echo ${id} > /b\nFROM busybox:latest\nCOPY --from=b /b /b\nRUN cat /b > /c\n` };
    const min = tempDir('opt-cache-min');
    const max = tempDir('opt-cache-max');
    await ok(files, ['--cache-to', `type=local,dest=${min}`, '--cache-to', `type=local,dest=${max},mode=max`]);
    t.true(cacheRecords(max) > cacheRecords(min), `max ${cacheRecords(max)} > min ${cacheRecords(min)}`);
    const refused = await buildIn(files, ['--cache-to', `type=local,dest=${min},compression=zstd`]);
    t.is(refused.code, 2);
    t.regex(refused.stderr, /--cache-to compression=…: not supported/);
    const s3 = await buildIn(files, ['--cache-to', 'type=s3,bucket=x']);
    t.is(s3.code, 2, s3.stderr);
    t.regex(s3.stderr, /--cache-to type=s3: not supported by nbuild/);
  },
  'cache-from': async (t) => {
    const files = RUN_DF(`echo ${uniq()} > /x`);
    const dir = tempDir('opt-cache');
    await ok(files, ['--cache-to', `type=local,dest=${dir}`]);
    const fresh = await storeWithBusybox();
    const r = await nbuild(['--root', fresh, 'build', '--progress', 'plain', '--cache-from', `type=local,src=${dir}`, writeCtx(files)]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /imported 1 cache record/);
    t.regex(r.stderr, /CACHED/);
  },
  network: async (t) => {
    const out = await local(RUN_DF('cat /proc/net/dev | wc -l > /n'), ['--network', 'none', '--no-cache']);
    t.is(fs.readFileSync(path.join(out, 'n'), 'utf8').trim(), '3'); // two header lines and lo
  },
  'add-host': async (t) => {
    const out = await local(RUN_DF('cp /etc/hosts /h'), ['--add-host', 'db.internal:10.9.8.7', '--no-cache']);
    t.regex(fs.readFileSync(path.join(out, 'h'), 'utf8'), /^10\.9\.8\.7\tdb\.internal$/m);
  },
  'shm-size': async (t) => {
    const out = await local(RUN_DF("df -k /dev/shm | tail -1 | awk '{print $2}' > /s"), ['--shm-size', '96m', '--no-cache']);
    t.is(fs.readFileSync(path.join(out, 's'), 'utf8').trim(), String(96 * 1024));
  },
  ulimit: async (t) => {
    const df = RUN_DF('echo "$(ulimit -Sn) $(ulimit -Hn) $(ulimit -Ss)" > /l');
    const read = (out: string): string => fs.readFileSync(path.join(out, 'l'), 'utf8').trim();
    t.is(read(await local(df, ['--ulimit', 'nofile=1062:1062', '--ulimit', 'stack=4096000'])), '1062 1062 4000');
    // Part of the RUN's cache key (BuildKit's ExecOp Meta): other limits run the step again.
    t.is(read(await local(df, ['--ulimit', 'nofile=900:1000', '--ulimit', 'stack=4096000'])), '900 1000 4000');
    const ownHard = BigInt(/^Max open files\s+\S+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? '0');
    const above = await buildIn(df, ['--ulimit', `nofile=1024:${ownHard + 1n}`]);
    t.is(above.code, 2);
    t.regex(above.stderr, /--ulimit nofile: the hard limit \d+ is above nbuild's own/);
    const bad = await buildIn(df, ['--ulimit', 'files=10']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--ulimit files=10: unknown type "files"/);
    const inverted = await buildIn(df, ['--ulimit', 'nofile=20:10']);
    t.is(inverted.code, 2);
    t.regex(inverted.stderr, /soft limit must not be above the hard limit/);
  },
  platform: async (t) => {
    // One foreign platform: one image of that platform (no RUN, so no emulator needed).
    const name = `plat-${uniq()}:1`;
    await ok({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x\n' }, ['--platform', 'linux/s390x', '-t', name]);
    t.is(((await inspect(name)) as unknown as { Architecture: string }).Architecture, 's390x');
    const two = `plat-${uniq()}:2`;
    await ok({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x\n' }, ['--platform', 'linux/amd64,linux/riscv64', '-t', two]);
    t.deepEqual(((await inspect(two)) as unknown as { Platforms: string[] }).Platforms, ['linux/amd64', 'linux/riscv64']);
    const bad = await buildIn({ Dockerfile: 'FROM scratch\n' }, ['--platform', 'linux']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--platform linux: not a platform/);
    const parts = await buildIn({ Dockerfile: 'FROM scratch\n' }, ['--platform', 'linux/s390x/a/b']);
    t.is(parts.code, 2);
    t.regex(parts.stderr, /--platform linux\/s390x\/a\/b: not a platform/);
  },
  call: async (t) => {
    const r = await buildIn({ Dockerfile: 'FROM busybox:latest\nCOPY\n' }, ['--call', 'check']);
    t.is(r.code, 1);
    t.regex(r.stdout, /Dockerfile:2: error/);
    const bad = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--call', 'outline']);
    t.is(bad.code, 2);
  },
  check: async (t) => {
    const r = await buildIn({ Dockerfile: 'FROM busybox:latest\nRUN\n' }, ['--check']);
    t.is(r.code, 1);
    t.regex(r.stdout, /Dockerfile:2: error/);
  },
  'build-context': async (t) => {
    // A folder (its own .dockerignore applies) for COPY --from=NAME, an image for FROM NAME.
    const named = tempDir('opt-bctx');
    writeFiles(named, { f: 'named\n', skipped: 'x\n', '.dockerignore': 'skipped\n' });
    const out = await local({ Dockerfile: 'FROM base\nCOPY --from=src / /src/\n' }, ['--build-context', `src=${named}`, '--build-context', 'base=docker-image://busybox:latest']);
    t.is(fs.readFileSync(path.join(out, 'src', 'f'), 'utf8'), 'named\n');
    t.false(fs.existsSync(path.join(out, 'src', 'skipped')));
    t.true(fs.existsSync(path.join(out, 'bin', 'sh')));
    const bad = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--build-context', 'nothing']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /^nbuild: --build-context nothing: expected NAME=VALUE/);
  },
  annotation: async (t) => {
    const name = `opt-ann-${uniq()}:1`;
    await ok({ Dockerfile: 'FROM busybox:latest\n' }, ['--annotation', 'org.opencontainers.image.source=https://example.invalid/x', '--annotation', 'manifest:b=2', '-t', name]);
    const a = (await inspect(name)).Manifest.annotations ?? {};
    t.is(a['org.opencontainers.image.source'], 'https://example.invalid/x');
    t.is(a.b, '2');
    const idx = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--annotation', 'index:a=1']);
    t.is(idx.code, 2);
    t.regex(idx.stderr, /one-platform build writes no index/);
    const multi = `opt-ann-${uniq()}:2`;
    await ok({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'x\n' }, ['--platform', 'linux/amd64,linux/arm64', '--annotation', 'index:a=1', '--annotation', 'm=2', '-t', multi]);
    const shown = (await inspect(multi)) as unknown as { Index: { annotations?: Record<string, string> }; Manifests: { Manifest: { annotations?: Record<string, string> } }[] };
    t.deepEqual(shown.Index.annotations, { a: '1' });
    t.deepEqual(shown.Manifests.map((m) => m.Manifest.annotations), [{ m: '2' }, { m: '2' }]);
    // buildx's other targets and [platform]: on an index (two platforms, or one with an attestation).
    const layout = await attested({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'y\n' }, [
      '--platform', 'linux/amd64,linux/arm64',
      '--annotation', 'manifest[linux/arm64]:only=arm',
      '--annotation', 'manifest-descriptor:md=1',
      '--annotation', 'index,index-descriptor:both=3',
    ]);
    t.deepEqual(layout.top.annotations, { both: '3' });
    t.deepEqual(layout.entries.map((e) => e.annotations), [{ md: '1' }, { md: '1' }]);
    t.deepEqual(layout.entries.map((e) => layout.blob(e.digest).annotations), [undefined, { only: 'arm' }]);
    const one = await attested({ Dockerfile: 'FROM busybox:latest\n' }, ['--provenance=true', '--annotation', 'index:i=1']);
    t.is(one.entries.length, 2);
    const bad = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--annotation', 'bogus:k=v']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /unknown annotation type bogus/);
  },
  attest: async (t) => {
    const files = { Dockerfile: 'FROM busybox:latest\nARG X\nRUN echo $X > /x\n' };
    const max = await attested(files, ['--attest', 'type=provenance,mode=max,builder-id=https://ci.example/run/1', '--build-arg', 'X=secret-ish', '--label', 'l=v', '-t', `opt-att-${uniq()}:1`]);
    // BuildKit's layout: the image, then its attestation manifest (unknown/unknown) pointing at it.
    t.is(max.entries.length, 2);
    const [image] = max.entries;
    t.deepEqual(image.platform, { architecture: HOST_ARCH, os: 'linux' });
    const [att] = max.attestations;
    t.deepEqual(att.entry.platform, { architecture: 'unknown', os: 'unknown' });
    t.deepEqual(att.entry.annotations, { 'vnd.docker.reference.digest': image.digest, 'vnd.docker.reference.type': 'attestation-manifest' });
    t.is(att.layers[0].mediaType, 'application/vnd.in-toto+json');
    t.is(att.layers[0].annotations?.['in-toto.io/predicate-type'], 'https://slsa.dev/provenance/v0.2');
    const [stmt] = att.statements;
    t.is(stmt.subject[0].digest.sha256, image.digest.slice(7));
    t.regex(stmt.subject[0].name, new RegExp(`^pkg:docker/opt-att-[a-z0-9]+@1\\?platform=linux%2F${HOST_ARCH}$`));
    t.is(stmt.predicate.builder.id, 'https://ci.example/run/1');
    t.is(stmt.predicate.invocation.configSource.entryPoint, 'Dockerfile');
    t.deepEqual(stmt.predicate.invocation.parameters.args, { 'build-arg:X': 'secret-ish', 'label:l': 'v' });
    t.is(stmt.predicate.materials[0].uri, `pkg:docker/busybox@latest?platform=linux%2F${HOST_ARCH}`);
    t.true(stmt.predicate.metadata.completeness.parameters);
    // min (the default): no build args or labels, and the parameters say so.
    const min = await attested(files, ['--attest', 'type=provenance', '--build-arg', 'X=secret-ish']);
    const minPredicate = min.attestations[0].statements[0].predicate;
    t.is(minPredicate.invocation.parameters.args, undefined);
    t.false(minPredicate.metadata.completeness.parameters);
    t.false(JSON.stringify(min.attestations[0].statements).includes('secret-ish'));
    // Two platforms: the images, then one attestation manifest per image, each naming its image.
    const multi = await attested({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: 'm\n' }, ['--platform', 'linux/amd64,linux/arm64', '--attest', 'type=provenance']);
    t.deepEqual(multi.entries.map((e) => `${e.platform?.os}/${e.platform?.architecture}`), ['linux/amd64', 'linux/arm64', 'unknown/unknown', 'unknown/unknown']);
    t.deepEqual(multi.attestations.map((a) => a.entry.annotations?.['vnd.docker.reference.digest']), [multi.entries[0].digest, multi.entries[1].digest]);
    const bad = await buildIn(files, ['--attest', 'type=provenance,generator=x']);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /--attest generator=…: not supported/);
    const docker = await buildIn(files, ['--attest', 'type=provenance', '-o', `type=docker,dest=${path.join(tempDir('opt-att'), 'd.tar')}`]);
    t.is(docker.code, 2);
    t.regex(docker.stderr, /a docker archive .* holds no attestations/);
  },
  provenance: async (t) => {
    const files = { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} > /p\n` };
    const on = await attested(files, ['--provenance=true']);
    t.deepEqual(on.attestations[0].statements.map((s) => s.predicateType), ['https://slsa.dev/provenance/v0.2']);
    const secret = path.join(tempDir('opt-att'), 'tok');
    fs.writeFileSync(secret, 'value');
    const max = await attested(files, ['--provenance=mode=max', '--secret', `id=tok,src=${secret}`]);
    t.deepEqual(max.attestations[0].statements[0].predicate.invocation.parameters.secrets, [{ id: 'tok' }]);
    // false: a plain image, no index.
    const off = await attested(files, ['--provenance=false']);
    t.is(off.top.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    t.is(off.attestations.length, 0);
    // buildx also puts a min provenance in --metadata-file (BUILDX_METADATA_PROVENANCE=min|max|disabled).
    const meta = path.join(tempDir('opt-att'), 'meta.json');
    await ok(files, ['--metadata-file', meta, '--build-arg', 'M=1']);
    const inMeta = JSON.parse(fs.readFileSync(meta, 'utf8'))['buildx.build.provenance'];
    t.is(inMeta.buildType, 'https://mobyproject.org/buildkit@v1');
    t.is(inMeta.materials[0].uri, `pkg:docker/busybox@latest?platform=linux%2F${HOST_ARCH}`);
    t.is(inMeta.invocation.parameters.args, undefined);
    await ok(files, ['--metadata-file', meta, '--build-arg', 'M=1'], { env: { BUILDX_METADATA_PROVENANCE: 'max' } });
    t.deepEqual(JSON.parse(fs.readFileSync(meta, 'utf8'))['buildx.build.provenance'].invocation.parameters.args, { 'build-arg:M': '1' });
    await ok(files, ['--metadata-file', meta], { env: { BUILDX_METADATA_PROVENANCE: 'disabled' } });
    t.false('buildx.build.provenance' in JSON.parse(fs.readFileSync(meta, 'utf8')));
    const v1 = await buildIn(files, ['--provenance=mode=max,version=v1']);
    t.is(v1.code, 2);
    t.regex(v1.stderr, /version=v1: not supported/);
  },
  sbom: async (t) => {
    const status = 'Package: foo\nStatus: install ok installed\nVersion: 1:1.2-3+b1\nArchitecture: amd64\nMaintainer: A B <a@b.example>\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 9\n\n';
    const apk = 'P:bar\nV:2.0-r1\nA:x86_64\nL:MIT\n\n';
    const files = { Dockerfile: 'FROM busybox:latest\nCOPY status /var/lib/dpkg/status\nCOPY installed /lib/apk/db/installed\n', status, installed: apk };
    const r = await attested(files, ['--sbom=true']);
    const [stmt] = r.attestations[0].statements;
    t.is(stmt.predicateType, 'https://spdx.dev/Document');
    t.is(r.attestations[0].layers[0].annotations?.['in-toto.io/predicate-type'], 'https://spdx.dev/Document');
    t.is(stmt.predicate.spdxVersion, 'SPDX-2.3');
    const pkgs = (stmt.predicate.packages as { name: string; versionInfo: string; externalRefs: { referenceLocator: string }[] }[]).map((p) => [p.name, p.versionInfo, p.externalRefs[0].referenceLocator]);
    t.deepEqual(pkgs, [
      ['foo', '1:1.2-3+b1', 'pkg:deb/debian/foo@1%3A1.2-3%2Bb1?arch=amd64'],
      ['bar', '2.0-r1', 'pkg:apk/alpine/bar@2.0-r1?arch=x86_64'],
    ]);
    const off = await attested(files, ['--sbom=false']);
    t.is(off.attestations.length, 0);
    const gen = await buildIn(files, ['--attest', 'type=sbom,generator=docker/buildkit-syft-scanner']);
    t.is(gen.code, 2);
    t.regex(gen.stderr, /generator=…: not supported by nbuild/);
  },
  'tls-verify': async (t) => {
    // 127.0.0.0/8 is plain HTTP whatever the flag (as Docker); the strict side is tested against
    // registries by name in test/registry/. Here: the flag reaches the build's push.
    const reg = await new FakeRegistry().start();
    try {
      const relaxed = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--push', '-t', `${reg.host}/opt/tls:1`, '--tls-verify=false']);
      t.is(relaxed.code, 0, relaxed.stderr);
      t.truthy(reg.manifests.get('opt/tls@1'));
    } finally {
      await reg.close();
    }
  },
  authfile: async (t) => {
    const reg = await new FakeRegistry({ auth: 'basic', users: { u: 'pw' } }).start();
    try {
      const file = path.join(tempDir('opt-auth'), 'auth.json');
      fs.writeFileSync(file, JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('u:pw').toString('base64') } } }));
      const r = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--push', '-t', `${reg.host}/opt/auth:1`, '--tls-verify=false', '--authfile', file], { env: { REGISTRY_AUTH_FILE: '/nonexistent' } });
      t.is(r.code, 0, r.stderr);
      t.truthy(reg.manifests.get('opt/auth@1'));
    } finally {
      await reg.close();
    }
  },
  creds: async (t) => {
    const reg = await new FakeRegistry({ auth: 'basic', users: { u: 'pw' } }).start();
    try {
      const wrong = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--push', '-t', `${reg.host}/opt/creds:1`, '--tls-verify=false', '--creds', 'u:bad']);
      t.not(wrong.code, 0);
      const right = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, ['--push', '-t', `${reg.host}/opt/creds:1`, '--tls-verify=false', '--creds', 'u:pw']);
      t.is(right.code, 0, right.stderr);
      t.truthy(reg.log.some((l) => l.authorization === `Basic ${Buffer.from('u:pw').toString('base64')}`));
    } finally {
      await reg.close();
    }
  },
  timestamp: async (t) => {
    const name = `opt-ts-${uniq()}:1`;
    await ok(RUN_DF('true'), ['--timestamp', '1000000000', '-t', name]);
    const r = await nbuild(['--root', root, 'inspect', '--format', '{{.Created}}', name]);
    t.is(r.stdout.trim(), '2001-09-09T01:46:40Z');
  },
  squash: async (t) => {
    const name = `opt-sq-${uniq()}:1`;
    await ok({ Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} > /a\nRUN echo b > /b\n` }, ['--squash', '-t', name]);
    const r = await nbuild(['--root', root, 'inspect', '--format', '{{json .RootFS.Layers}}', name]);
    t.is(JSON.parse(r.stdout).length, 2); // busybox's one layer + this build's one
  },
  'squash-all': async (t) => {
    const name = `opt-sqa-${uniq()}:1`;
    await ok({ Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} > /a\n` }, ['--squash-all', '-t', name]);
    const r = await nbuild(['--root', root, 'inspect', '--format', '{{json .RootFS.Layers}}', name]);
    t.is(JSON.parse(r.stdout).length, 1);
  },
  compression: async (t) => {
    for (const [args, type] of [[['--compression', 'zstd'], 'zstd'], [['-o', 'type=image,name=opt-c:1,compression=zstd'], 'zstd']] as const) {
      const name = `opt-comp-${uniq()}:1`;
      await ok(RUN_DF(`echo ${uniq()} > /z`), [...args, '-t', name]);
      const r = await nbuild(['--root', root, 'inspect', '--format', '{{json .Manifest.layers}}', name]);
      const layers = JSON.parse(r.stdout) as { mediaType: string }[];
      t.true(layers[layers.length - 1].mediaType.endsWith(`+${type}`));
    }
  },
  'compression-level': async (t) => {
    const bad = await buildIn(RUN_DF(`echo ${uniq()} > /z`), ['--compression-level', '42']);
    t.not(bad.code, 0);
    await ok(RUN_DF(`echo ${uniq()} > /z`), ['--compression-level', '1']);
  },
  isolation: async (t) => {
    const r = await ok(RUN_DF(`echo ${uniq()}`), ['--isolation', 'copy', '--progress', 'plain']);
    t.regex(r.stderr, /DONE/);
  },
  'http-proxy': async (t) => {
    // In depth (config.json, precedence, not in the image): test/cli/env-conventions.test.ts.
    const files = RUN_DF(`echo ${uniq()} > /dev/null; echo "[$HTTPS_PROXY]" > /p`);
    const env = { HTTPS_PROXY: 'http://opt-proxy.invalid:3128', https_proxy: '' };
    const on = await local(files, ['--no-cache'], { env });
    t.is(fs.readFileSync(path.join(on, 'p'), 'utf8'), '[http://opt-proxy.invalid:3128]\n');
    const off = await local(files, ['--no-cache', '--http-proxy=false'], { env });
    t.is(fs.readFileSync(path.join(off, 'p'), 'utf8'), '[]\n');
  },
  'run-fsync': async (t) => {
    // Covered in depth by test/behaviour/run-sync.test.ts and test/e2e/run-sync-cli.test.ts (strace-free: a sync counter); here: accepted and builds.
    await ok(RUN_DF(`sync; echo ${uniq()}`), ['--run-fsync']);
    t.pass();
  },
};

function writeCtx(files: Record<string, string>): string {
  const ctx = tempDir('opt-ctx');
  writeFiles(ctx, files);
  return ctx;
}

function cacheRecords(dir: string): number {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8'));
  return config.records.length;
}

test('every option of the table is checked or refused', (t) => {
  for (const o of BUILD_OPTIONS) {
    if (o.status === 'implemented') t.truthy(CHECKS[o.name], `--${o.name} is implemented but has no behaviour check`);
    else t.truthy(o.refusal, `--${o.name} is refused without a reason`);
  }
  for (const name of Object.keys(CHECKS)) t.truthy(BUILD_OPTIONS.find((o) => o.name === name), `check for unknown option --${name}`);
});

for (const o of BUILD_OPTIONS) {
  if (o.status === 'implemented') {
    const check = CHECKS[o.name];
    if (check) test(`--${o.name} does what its name says`, check);
  } else {
    test(`--${o.name} is refused by name`, async (t) => {
      const value = o.yargs.type === 'boolean' ? [] : ['x'];
      const r = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, [`--${o.name}`, ...value]);
      t.is(r.code, 2);
      const lines = r.stderr.trim().split('\n');
      t.is(lines.length, 1, r.stderr);
      t.regex(lines[0], new RegExp(`^nbuild: --${o.name}: not supported by nbuild: `));
      if (o.accept) {
        const accepted = await buildIn({ Dockerfile: 'FROM busybox:latest\n' }, [`--${o.name}=false`, '-q']);
        t.is(accepted.code, 0, accepted.stderr);
      }
    });
  }
}

test('the context and the Dockerfile on stdin (nbuild build -)', async (t) => {
  const ctx = writeCtx({ Dockerfile: 'FROM busybox:latest\nCOPY a /a\n', a: 'from-tar\n' });
  const tgz = path.join(tempDir('opt-stdin'), 'ctx.tgz');
  execFileSync('tar', ['-C', ctx, '-czf', tgz, '.']);
  const out = path.join(tempDir('opt-out'), 'fs');
  execFileSync('sh', ['-c', `"$0" --root "$1" build -q -o "$2" - < "$3"`, path.join(process.cwd(), 'bin', 'nbuild'), root, out, tgz]);
  t.is(fs.readFileSync(path.join(out, 'a'), 'utf8'), 'from-tar\n');
  const piped = await nbuild(['--root', root, 'build', '-q', '-o', path.join(tempDir('opt-out'), 'fs2'), '-'], { input: 'FROM busybox:latest\nRUN echo df > /d\n' });
  t.is(piped.code, 0, piped.stderr);
  const empty = await nbuild(['--root', root, 'build', '-'], { input: '' });
  t.is(empty.code, 1);
  t.regex(empty.stderr, /standard input is empty/);
});

test('nbuild build --help is made from the table', async (t) => {
  const r = await nbuild(['build', '--help']);
  for (const o of BUILD_OPTIONS) if (o.status === 'implemented') t.true(r.stdout.includes(`--${o.name}`), `--${o.name} missing from --help`);
});

test('docs/cli.md lists every option with its status', (t) => {
  const doc = fs.readFileSync(path.join(process.cwd(), 'docs', 'cli.md'), 'utf8');
  for (const o of BUILD_OPTIONS) {
    const row = doc.split('\n').find((l) => l.includes(`| \`--${o.name}\``) && l.startsWith('|'));
    t.truthy(row, `docs/cli.md has no row for --${o.name}`);
    t.true(row?.includes(o.status === 'implemented' ? 'works' : 'refused') ?? false, `docs/cli.md: --${o.name} status`);
  }
});

/** The layers of the one image in an OCI archive, with the config's diff_ids, unpacked to `dir`. */
function archiveLayers(file: string): { dir: string; layers: Desc[]; diffIds: string[] } {
  const dir = tempDir('opt-oci');
  execFileSync('tar', ['-C', dir, '-xf', file]);
  const blob = (d: string): any => JSON.parse(fs.readFileSync(path.join(dir, 'blobs', 'sha256', d.slice(7)), 'utf8'));
  const manifest = blob(JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')).manifests[0].digest);
  return { dir, layers: manifest.layers, diffIds: blob(manifest.config.digest).rootfs.diff_ids };
}

test('-o compression=zstd,force-compression=true re-encodes the base layers too', async (t) => {
  const files = { Dockerfile: 'FROM busybox:latest\nCOPY f /f\n', f: `${uniq()}\n` };
  const forced = path.join(tempDir('opt-out'), 'forced.tar');
  await ok(files, ['-o', `type=oci,dest=${forced},compression=zstd,force-compression=true`]);
  const { dir, layers, diffIds } = archiveLayers(forced);
  t.is(layers.length, 2);
  for (const [i, l] of layers.entries()) {
    t.is(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    const file = path.join(dir, 'blobs', 'sha256', l.digest.slice(7));
    t.is(fs.statSync(file).size, l.size);
    execFileSync('zstd', ['-q', '-t', file]);
    // The same tar as before: the decoded blob is the config's diff_id.
    t.is(`sha256:${execFileSync('sh', ['-c', 'zstd -dc "$0" | sha256sum', file]).toString().split(' ')[0]}`, diffIds[i]);
  }
  // skopeo reads it (umoci 0.4 knows no zstd): decompressed, each blob is named by its diff_id.
  const copied = path.join(tempDir('opt-skopeo'), 'dir');
  execFileSync('skopeo', ['copy', '-q', '--dest-decompress', `oci-archive:${forced}`, `dir:${copied}`]);
  for (const d of diffIds) t.true(fs.existsSync(path.join(copied, d.slice(7))), `skopeo copy has no ${d}`);
  // Without force-compression, busybox's layer stays as it is stored (gzip); the new one is zstd.
  const plain = path.join(tempDir('opt-out'), 'plain.tar');
  await ok(files, ['-o', `type=oci,dest=${plain},compression=zstd`]);
  t.deepEqual(archiveLayers(plain).layers.map((l) => l.mediaType.split('+')[1]), ['gzip', 'zstd']);
  const mixed = await buildIn(files, ['-o', `type=oci,dest=${plain},compression=zstd,force-compression=true`, '-o', `type=oci-layout,dest=${tempDir('opt-out')}/l,compression=zstd`]);
  t.is(mixed.code, 2);
  t.regex(mixed.stderr, /the outputs ask for different compression/);
});

test('a build that only stores its image keeps its layers uncompressed; leaving the store compresses them, once', async (t) => {
  const files = { Dockerfile: `FROM busybox:latest\nRUN head -c 300000 /dev/zero | tr '\\0' x > /big && echo ${uniq()} > /u\n` };
  const name = `lazy-${uniq()}:1`;
  const layersOf = async (ref: string) => {
    const r = await nbuild(['--root', root, 'inspect', '--format', '{{json .Manifest.layers}}', ref]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Desc[];
  };
  const first = await ok(files, ['-t', name]);
  const stored = await layersOf(name);
  // busybox's layer is kept as pulled; the RUN's is the plain tar, its size the tar's.
  t.deepEqual(stored.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar']);
  t.true(stored[1].size > 300000);
  // An export of the same build shares its cache (the RUN does not run again) and writes gzip.
  const archive = path.join(tempDir('opt-out'), 'lazy.tar');
  const exported = await buildIn({ Dockerfile: files.Dockerfile }, ['-t', name, '--progress', 'plain', '-o', `type=oci,dest=${archive}`]);
  void first;
  t.is(exported.code, 0, exported.stderr);
  t.regex(exported.stderr, /#\d+ CACHED/);
  t.regex(exported.stderr, /#\d+ compressing the layers kept uncompressed in the store/);
  const { dir, layers, diffIds } = archiveLayers(archive);
  t.deepEqual(layers.map((l) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
  const blobFile = path.join(dir, 'blobs', 'sha256', layers[1].digest.slice(7));
  t.true(layers[1].size < 100000, `the gzip blob is ${layers[1].size} bytes`);
  t.is(`sha256:${execFileSync('sh', ['-c', 'gzip -dc "$0" | sha256sum', blobFile]).toString().split(' ')[0]}`, diffIds[1]);
  // The image in the store is the exported one, and its cache record now names the gzip blob:
  // a later store-only build reuses it instead of compressing again.
  t.deepEqual((await layersOf(name)).map((l) => l.digest), layers.map((l) => l.digest));
  const again = `lazy-${uniq()}:2`;
  await ok(files, ['-t', again]);
  t.is((await layersOf(again))[1].digest, layers[1].digest);
  // nbuild push of an image stored uncompressed pushes gzip, as docker push; the config (the image id) is the same.
  const plainName = `lazy-${uniq()}:3`;
  const plainFiles = { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} > /p\n` };
  await ok(plainFiles, ['-t', plainName]);
  const plainLayers = await layersOf(plainName);
  t.is(plainLayers[1].mediaType, 'application/vnd.oci.image.layer.v1.tar');
  const reg = await new FakeRegistry().start();
  try {
    const pushed = await nbuild(['--root', root, 'push', '--tls-verify=false', plainName, `${reg.host}/opt/lazy:1`]);
    t.is(pushed.code, 0, pushed.stderr);
    const manifest = JSON.parse((reg.manifests.get('opt/lazy@1') as { bytes: Buffer }).bytes.toString());
    t.deepEqual(manifest.layers.map((l: Desc) => l.mediaType), ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip']);
    const blob = reg.blobs.get(manifest.layers[1].digest) as Buffer;
    t.is(blob[0], 0x1f);
    t.is(blob.length, manifest.layers[1].size);
    const config = JSON.parse((reg.blobs.get(manifest.config.digest) as Buffer).toString());
    t.is(`sha256:${execFileSync('sh', ['-c', 'gzip -dc | sha256sum'], { input: blob }).toString().split(' ')[0]}`, config.rootfs.diff_ids[1]);
    const id = await nbuild(['--root', root, 'inspect', '--format', '{{.Id}}', plainName]);
    t.is(id.stdout.trim(), manifest.config.digest);
    // Compressed once: a later export of the same build reuses the encoding the push made.
    const archived = path.join(tempDir('opt-out'), 'lazy-after-push.tar');
    const exportedAfterPush = await buildIn(plainFiles, ['--progress', 'plain', '-o', `type=oci,dest=${archived}`]);
    t.is(exportedAfterPush.code, 0, exportedAfterPush.stderr);
    t.regex(exportedAfterPush.stderr, new RegExp(`#\\d+ ${plainLayers[1].digest.slice(0, 19)}\\S* \\S+ already in the store`));
    t.is(archiveLayers(archived).layers[1].digest, manifest.layers[1].digest);
    // A manifest list of it (nbuild manifest create + push): the list names the compressed image.
    const list = `lazy-list-${uniq()}:1`;
    t.is((await nbuild(['--root', root, 'manifest', 'create', list, plainName])).code, 0);
    const listed = await nbuild(['--root', root, 'manifest', 'push', '--tls-verify=false', list, `${reg.host}/opt/lazylist:1`]);
    t.is(listed.code, 0, listed.stderr);
    const index = JSON.parse((reg.manifests.get('opt/lazylist@1') as { bytes: Buffer }).bytes.toString());
    const entry = JSON.parse((reg.manifests.get(`opt/lazylist@${index.manifests[0].digest}`) as { bytes: Buffer }).bytes.toString());
    t.deepEqual(entry.layers.map((l: Desc) => l.digest), manifest.layers.map((l: Desc) => l.digest));
  } finally {
    await reg.close();
  }
});

const DOCKER_TYPES = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
};

(haveDistribution ? test : test.skip)('-o oci-mediatypes=false writes Docker media types (registry, oci-layout)', async (t) => {
  const reg = await startDistribution();
  t.teardown(() => reg.stop());
  const files = { Dockerfile: 'FROM busybox:latest\nCOPY f /f\n', f: `${uniq()}\n` };
  const ref = `${reg.host}/opt/docker-types:1`;
  const layout = path.join(tempDir('opt-out'), 'layout');
  const oci = path.join(tempDir('opt-out'), 'oci');
  await ok(files, ['--tls-verify=false', '-o', `type=registry,name=${ref},oci-mediatypes=false`, '-o', `type=oci-layout,dest=${layout},oci-mediatypes=false`, '-o', `type=oci-layout,dest=${oci}`]);
  const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]).toString());
  t.is(raw.mediaType, DOCKER_TYPES.manifest);
  t.is(raw.config.mediaType, DOCKER_TYPES.config);
  t.deepEqual(raw.layers.map((l: Desc) => l.mediaType), [DOCKER_TYPES.layer, DOCKER_TYPES.layer]);
  // skopeo reads the image through its config.
  t.is(JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]).toString()).Layers.length, 2);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  t.is(index.manifests[0].mediaType, DOCKER_TYPES.manifest);
  const fromLayout = JSON.parse(fs.readFileSync(path.join(layout, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  t.deepEqual(fromLayout, raw);
  // The same build's OCI output: other manifest, same config and layers.
  const ociIndex = JSON.parse(fs.readFileSync(path.join(oci, 'index.json'), 'utf8'));
  const ociManifest = JSON.parse(fs.readFileSync(path.join(oci, 'blobs', 'sha256', ociIndex.manifests[0].digest.slice(7)), 'utf8'));
  t.is(ociManifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  t.is(ociManifest.config.digest, raw.config.digest);
  t.deepEqual(ociManifest.layers.map((l: Desc) => l.digest), raw.layers.map((l: Desc) => l.digest));
  // Two platforms (from scratch: the test store has busybox for this host only): a Docker manifest list.
  const listRef = `${reg.host}/opt/docker-types:list`;
  await ok({ Dockerfile: 'FROM scratch\nCOPY f /f\n', f: `${uniq()}\n` }, ['--platform', 'linux/amd64,linux/arm64', '--tls-verify=false', '-o', `type=registry,name=${listRef},oci-mediatypes=false`]);
  const list = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${listRef}`]).toString());
  t.is(list.mediaType, DOCKER_TYPES.list);
  t.deepEqual(list.manifests.map((d: Desc) => [d.mediaType, d.platform?.architecture]), [[DOCKER_TYPES.manifest, 'amd64'], [DOCKER_TYPES.manifest, 'arm64']]);
  // As buildx: zstd has no Docker media type.
  const zstd = await buildIn(files, ['-o', `type=oci-layout,dest=${layout}2,compression=zstd,oci-mediatypes=false`]);
  t.is(zstd.code, 2);
  t.regex(zstd.stderr, /^nbuild: --output compression=zstd conflicts with oci-mediatypes=false$/m);
});
