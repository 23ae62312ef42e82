// `nbuild info [--format text|json]`: what this host offers for rootless builds: id mapping,
// the isolation ladder (which mode is chosen and why not the others), networking, compression.
import type { Argv, CommandModule } from 'yargs';
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { packagePath } from '../../package-root.js';
import { release, userInfo } from 'node:os';
import { constants as zlibConstants } from 'node:zlib';
import { currentIdMapping, planIdMapping, privateNetworkUnavailable, type IdMappingPlan, type IdMapEntry } from '../../sandbox/index.js';
import { chooseIsolation, describeMode, probeHost, type HostProbe, type IsolationReport } from '../../snapshot/index.js';

interface InfoArgs {
  format: 'text' | 'json';
}

interface Compression {
  gzip: { available: boolean; via: string };
  zstd: { available: boolean; via: string };
}

interface Info {
  version: string;
  kernel: string;
  user: { name: string; uid: number; gid: number };
  idMapping: IdMappingPlan & { current?: { uids: IdMapEntry[]; gids: IdMapEntry[] } };
  isolation: IsolationReport;
  networkNone: { available: boolean; reason: string };
  /** RUN's default network: a namespace of each step's own through slirp4netns, or the host's and why. */
  runNetwork: { mode: 'slirp4netns'; slirp4netns: string } | { mode: 'host'; fallback: string };
  compression: Compression;
  nativeEngine: boolean;
  probe: HostProbe;
}

const require = createRequire(import.meta.url);

async function compression(): Promise<Compression> {
  let zstd = { available: false, via: '' };
  try {
    const pkg = require('zstd-napi/package.json') as { version: string };
    await import('zstd-napi');
    zstd = { available: true, via: `zstd-napi ${pkg.version}` };
  } catch (e) {
    zstd = { available: false, via: `zstd-napi not loadable: ${(e as Error).message.split('\n')[0]}` };
  }
  const gzip = { available: typeof zlibConstants.Z_DEFAULT_COMPRESSION === 'number', via: `node zlib ${process.versions.zlib}` };
  return { gzip, zstd };
}

async function gather(): Promise<Info> {
  const pkg = require(packagePath('package.json')) as { version: string };
  const probe = await probeHost();
  const me = userInfo();
  const plan = planIdMapping();
  const isolation = chooseIsolation(probe);
  const addon = packagePath('build', 'Release', 'nbuild_native.node');
  return {
    version: pkg.version,
    kernel: release(),
    user: { name: me.username, uid: me.uid, gid: me.gid },
    idMapping: me.uid === 0 ? { ...plan, current: currentIdMapping() } : plan,
    isolation,
    networkNone: probe.networkNamespace.ok
      ? { available: true, reason: '' }
      : { available: false, reason: probe.networkNamespace.error },
    runNetwork: runNetwork(probe, isolation.chosen),
    compression: await compression(),
    nativeEngine: await access(addon, constants.R_OK).then(() => true, () => false),
    probe,
  };
}

function runNetwork(probe: HostProbe, isolation: string | undefined): Info['runNetwork'] {
  const fallback = privateNetworkUnavailable(probe, isolation === 'chroot' ? 'chroot' : 'namespaces');
  if (fallback !== undefined || !probe.slirp4netns.binary) return { mode: 'host', fallback: fallback ?? '' };
  return { mode: 'slirp4netns', slirp4netns: probe.slirp4netns.binary };
}

function mappingText(info: Info): string[] {
  const m = info.idMapping;
  const lines: string[] = [];
  if (info.user.uid === 0 && m.current) {
    const show = (es: IdMapEntry[]): string => es.map((e) => `${e.containerId}→${e.hostId} ×${e.size}`).join(', ');
    lines.push(`  running as root; uid map ${show(m.current.uids)}; gid map ${show(m.current.gids)}`);
    return lines;
  }
  if (m.kind === 'subordinate') {
    lines.push(`  0 → your uid ${m.uid}; 1-${m.uidRange.count} → ${m.uidRange.start}-${m.uidRange.start + m.uidRange.count - 1} (/etc/subuid, newuidmap)`);
    lines.push(`  0 → your gid ${m.gid}; 1-${m.gidRange.count} → ${m.gidRange.start}-${m.gidRange.start + m.gidRange.count - 1} (/etc/subgid, newgidmap)`);
  } else {
    lines.push(`  single id only (${m.reason}): RUN steps cannot chown to other users`);
    lines.push(`  fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${info.user.name}`);
  }
  return lines;
}

function renderText(info: Info): string {
  const lines = [`nbuild ${info.version}, Linux ${info.kernel}, node ${process.version}`];
  lines.push(`user ${info.user.name} (uid ${info.user.uid}, gid ${info.user.gid})`, '', 'id mapping:', ...mappingText(info), '');
  lines.push('isolation (best first):');
  for (const v of info.isolation.modes) {
    const mark = v.mode === info.isolation.chosen ? '*' : ' ';
    const state = v.available ? 'available' : 'no';
    lines.push(`  ${mark} ${v.mode.padEnd(15)} ${state.padEnd(10)}${v.reason ? v.reason : describeMode(v.mode)}`);
  }
  lines.push(info.isolation.chosen ? `  chosen: ${info.isolation.chosen}` : '  chosen: none: RUN steps cannot run on this host');
  const net = info.runNetwork;
  lines.push(
    '',
    net.mode === 'slirp4netns'
      ? `RUN network: a namespace of each step's own, outbound through ${net.slirp4netns} (the host's 127.0.0.1 is not reachable)`
      : `RUN network: host (fallback: ${net.fallback})`,
  );
  lines.push(`RUN --network=none: ${info.networkNone.available ? 'available' : `no (${info.networkNone.reason})`}`);
  lines.push('compression:');
  for (const [name, c] of Object.entries(info.compression) as Array<[string, { available: boolean; via: string }]>)
    lines.push(`  ${name.padEnd(5)} ${c.available ? 'yes' : 'no '}  ${c.via}`);
  lines.push(`native layer engine: ${info.nativeEngine ? 'built' : 'missing (npm run build:native)'}`);
  return lines.join('\n') + '\n';
}

export const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info',
  describe: 'show what this host offers: id mapping, isolation modes, networking, compression',
  builder: (y: Argv<object>) =>
    y.option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' }),
  handler: async (argv) => {
    const info = await gather();
    process.stdout.write(argv.format === 'json' ? JSON.stringify(info, null, 2) + '\n' : renderText(info));
  },
};
