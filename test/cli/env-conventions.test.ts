// Environment conventions of `nbuild build` (issue 16, Deliver 4): proxies from the environment and
// Docker's config.json reach RUN but never the image; NO_COLOR; BUILDKIT_PROGRESS.
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nbuild, storeWithBusybox, tempDir, writeFiles } from '../helpers/nbuild-cli.js';

let root: string;
test.before(async () => {
  root = await storeWithBusybox();
});

const uniq = () => Math.random().toString(36).slice(2, 10);
/** No proxy variable of the test's own environment leaks in. */
const NO_PROXIES: NodeJS.ProcessEnv = Object.fromEntries(
  ['http_proxy', 'https_proxy', 'no_proxy', 'ftp_proxy', 'all_proxy'].flatMap((k) => [[k, ''], [k.toUpperCase(), '']]),
);

interface Built { proxies: Record<string, string | undefined>; image: { Config: { Env?: string[] }; History: { created_by?: string }[] } ; stderr: string }

/** Builds a RUN that records its proxy variables; returns them, the image's config and history. */
async function buildProxies(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Built> {
  const ctx = tempDir('proxy-ctx');
  writeFiles(ctx, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()} >/dev/null; env | grep -i '_proxy=' | sort > /proxies; true\n` });
  const out = path.join(tempDir('proxy-out'), 'fs');
  const name = `proxy-${uniq()}:1`;
  const r = await nbuild(['--root', root, 'build', '-t', name, '-o', `type=image,name=${name}`, '-o', `type=local,dest=${out}`, ...args, ctx], { env: { ...NO_PROXIES, ...env } });
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  const proxies = Object.fromEntries(fs.readFileSync(path.join(out, 'proxies'), 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const inspected = await nbuild(['--root', root, 'inspect', name]);
  return { proxies, image: JSON.parse(inspected.stdout)[0], stderr: r.stderr };
}

function assertNotInImage(t: import('ava').ExecutionContext, built: Built, ...values: string[]): void {
  const config = JSON.stringify(built.image.Config);
  const history = JSON.stringify(built.image.History);
  for (const v of values) {
    t.false(config.includes(v), `${v} is in the image config: ${config}`);
    t.false(history.includes(v), `${v} is in the history: ${history}`);
  }
}

test('the proxy variables of the environment reach RUN, in both spellings, and not the image', async (t) => {
  const built = await buildProxies({ HTTPS_PROXY: 'http://env-proxy.invalid:3128', no_proxy: '.internal,127.0.0.1', ALL_PROXY: 'socks5://env-all.invalid:1080' });
  t.is(built.proxies.HTTPS_PROXY, 'http://env-proxy.invalid:3128');
  t.is(built.proxies.https_proxy, 'http://env-proxy.invalid:3128');
  t.is(built.proxies.NO_PROXY, '.internal,127.0.0.1');
  t.is(built.proxies.no_proxy, '.internal,127.0.0.1');
  t.is(built.proxies.all_proxy, 'socks5://env-all.invalid:1080');
  t.is(built.proxies.HTTP_PROXY, undefined);
  assertNotInImage(t, built, 'env-proxy.invalid', '.internal', 'env-all.invalid');
});

test("config.json's proxies.default wins over the environment, --build-arg over both", async (t) => {
  const home = tempDir('proxy-home');
  writeFiles(home, {
    '.docker/config.json': JSON.stringify({ proxies: { default: { httpProxy: 'http://cfg-http.invalid:3128', httpsProxy: 'http://cfg-https.invalid:3129', noProxy: '*.cfg.example', ftpProxy: 'http://cfg-ftp.invalid:21' } } }),
  });
  const env = { HOME: home, DOCKER_CONFIG: '', HTTP_PROXY: 'http://env-http.invalid:1', all_proxy: 'socks5://env-all.invalid:2' };
  const built = await buildProxies(env, ['--build-arg', 'https_proxy=http://arg-https.invalid:4']);
  t.is(built.proxies.HTTP_PROXY, 'http://cfg-http.invalid:3128'); // config.json over the environment
  t.is(built.proxies.http_proxy, 'http://cfg-http.invalid:3128');
  t.is(built.proxies.HTTPS_PROXY, 'http://arg-https.invalid:4'); // --build-arg over config.json
  t.is(built.proxies.no_proxy, '*.cfg.example');
  t.is(built.proxies.FTP_PROXY, 'http://cfg-ftp.invalid:21');
  t.is(built.proxies.all_proxy, 'socks5://env-all.invalid:2'); // not in config.json: the environment's
  assertNotInImage(t, built, 'cfg-http.invalid', 'cfg-https.invalid', 'arg-https.invalid', 'cfg.example', 'env-all.invalid', 'cfg-ftp.invalid');
  // DOCKER_CONFIG names the folder instead of ~/.docker.
  const other = tempDir('proxy-dockercfg');
  writeFiles(other, { 'config.json': JSON.stringify({ proxies: { default: { httpProxy: 'http://dc.invalid:9' } } }) });
  const viaDockerConfig = await buildProxies({ HOME: home, DOCKER_CONFIG: other });
  t.is(viaDockerConfig.proxies.HTTP_PROXY, 'http://dc.invalid:9');
  t.is(viaDockerConfig.proxies.HTTPS_PROXY, undefined);
});

test('a changed proxy keeps the cache; --http-proxy=false passes none', async (t) => {
  const ctx = tempDir('proxy-cache');
  writeFiles(ctx, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()}; echo "[$http_proxy]"\n` });
  const first = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx], { env: { ...NO_PROXIES, http_proxy: 'http://one.invalid:1' } });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /\[http:\/\/one\.invalid:1\]/);
  const second = await nbuild(['--root', root, 'build', '--progress', 'plain', ctx], { env: { ...NO_PROXIES, http_proxy: 'http://two.invalid:2' } });
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /CACHED/);
  const off = await nbuild(['--root', root, 'build', '--progress', 'plain', '--no-cache', '--http-proxy=false', ctx], { env: { ...NO_PROXIES, http_proxy: 'http://three.invalid:3' } });
  t.is(off.code, 0, off.stderr);
  t.regex(off.stderr, /^#\d+ \[\]$/m);
});

test('a config.json that is not JSON is one error naming it', async (t) => {
  const home = tempDir('proxy-badhome');
  writeFiles(home, { '.docker/config.json': '{"proxies": ' });
  const ctx = tempDir('proxy-ctx');
  writeFiles(ctx, { Dockerfile: 'FROM busybox:latest\nRUN true\n' });
  const r = await nbuild(['--root', root, 'build', ctx], { env: { ...NO_PROXIES, HOME: home, DOCKER_CONFIG: '' } });
  t.is(r.code, 1);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /config\.json: not JSON/);
});

test('NO_COLOR: the tty display has no colour, only cursor movement', async (t) => {
  const run = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const ctx = tempDir('color-ctx');
    writeFiles(ctx, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()}; echo line-one; sleep 0.4; echo line-two; sleep 0.4\n` });
    const r = await nbuild(['--root', root, 'build', '--progress', 'tty', ctx], { env });
    t.is(r.code, 0, r.stderr);
    return r.stderr;
  };
  const coloured = await run({ NO_COLOR: '' });
  t.true(coloured.includes('\x1b[2m'), 'the tty display dims output lines');
  const plain = await run({ NO_COLOR: '1' });
  t.regex(plain, /line-one/);
  t.false(/\x1b\[[0-9;]*m/.test(plain), 'no SGR (colour) sequence under NO_COLOR');
  t.regex(plain, /\x1b\[\d+A/); // still redrawn in place
});

test('BUILDKIT_PROGRESS chooses every mode; --progress wins over it', async (t) => {
  const ctx = tempDir('bkp-ctx');
  writeFiles(ctx, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()}\n` });
  const build = (env: NodeJS.ProcessEnv, args: string[] = []) => nbuild(['--root', root, 'build', '--no-cache', ...args, ctx], { env });
  const plain = await build({ BUILDKIT_PROGRESS: 'plain' });
  t.regex(plain.stderr, /^#1 \[/m);
  for (const mode of ['json', 'rawjson']) {
    const json = await build({ BUILDKIT_PROGRESS: mode });
    t.is(json.code, 0, json.stderr);
    const lines = json.stderr.trim().split('\n');
    t.true(lines.length > 1);
    for (const line of lines) t.notThrows(() => JSON.parse(line), `${mode}: ${line}`);
  }
  const quiet = await build({ BUILDKIT_PROGRESS: 'quiet' });
  t.is(quiet.stderr, '');
  t.regex(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
  // The tty display redraws from a timer: a build done before its first tick prints one final
  // frame with nothing to move over (seen on a quiet machine), so this one lasts a few ticks.
  const slow = tempDir('bkp-tty');
  writeFiles(slow, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()}; sleep 0.5\n` });
  const tty = await nbuild(['--root', root, 'build', '--no-cache', slow], { env: { BUILDKIT_PROGRESS: 'tty' } });
  t.regex(tty.stderr, /=> #\d+ \[/);
  t.regex(tty.stderr, /\x1b\[/);
  const auto = await build({ BUILDKIT_PROGRESS: 'auto' }); // stderr is a pipe: plain
  t.regex(auto.stderr, /^#1 \[/m);
  const flag = await build({ BUILDKIT_PROGRESS: 'json' }, ['--progress', 'plain']);
  t.regex(flag.stderr, /^#1 \[/m);
  const bad = await build({ BUILDKIT_PROGRESS: 'fancy' });
  t.is(bad.code, 2);
  t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  t.regex(bad.stderr, /BUILDKIT_PROGRESS=fancy: expected auto, tty, plain, json, rawjson or quiet/);
});

test("the host's proxies stay out of the provenance; a --build-arg proxy is recorded as buildx records it", async (t) => {
  const ctx = tempDir('proxy-prov');
  writeFiles(ctx, { Dockerfile: `FROM busybox:latest\nRUN echo ${uniq()}; echo "[$HTTPS_PROXY]"\n` });
  const dir = tempDir('proxy-prov-out');
  const [archive, meta] = [path.join(dir, 'image.tar'), path.join(dir, 'meta.json')];
  const r = await nbuild(['--root', root, 'build', '--provenance', 'mode=max', '--build-arg', 'http_proxy=http://given-arg.invalid:1', '--build-arg', 'FOO=bar', '-o', `type=oci,dest=${archive}`, '--metadata-file', meta, '--progress', 'plain', ctx], {
    env: { ...NO_PROXIES, HTTPS_PROXY: 'http://host-secret.invalid:3128', BUILDX_METADATA_PROVENANCE: 'max' },
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /\[http:\/\/host-secret\.invalid:3128\]/); // RUN saw it
  const metadata = fs.readFileSync(meta, 'utf8');
  const attested = fs.readFileSync(archive).toString('latin1');
  for (const [what, text] of [['metadata', metadata], ['attestation', attested]] as const) {
    t.false(text.includes('host-secret.invalid'), `${what} records the host's proxy`);
    t.true(text.includes('build-arg:FOO'), `${what} lacks build-arg:FOO`);
    t.true(text.includes('given-arg.invalid'), `${what} lacks the --build-arg proxy`);
  }
});
