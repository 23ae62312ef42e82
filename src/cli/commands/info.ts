// `nbuild info [--format text|json]`: what this host offers for rootless builds: id mapping,
// the isolation ladder (which mode is chosen and why not the others), networking, compression.
import type { Argv } from 'yargs';
import { release, userInfo } from 'node:os';
import { engineInfo } from '../../native/index.js';
import { nativeFiles } from '../../native/location.js';
import { nbuildVersion } from '../../package-root.js';
import { describeFinding, diagnoseHost, systemInputs, type Finding } from '../../sandbox/diagnose.js';
import { helperPath } from '../../sandbox/helper.js';
import { currentIdMapping, planIdMapping, privateNetworkUnavailable, type IdMappingPlan, type IdMapEntry } from '../../sandbox/index.js';
import { binfmtDir, runSupportAll, type RunSupport } from '../../sandbox/binfmt.js';
import { chooseIsolation, describeMode, probeHost, type HostProbe, type IsolationReport } from '../../snapshot/index.js';
import type { NbuildCommand } from '../command.js';
import { isolationOption } from '../run-isolation.js';

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
  /** where the addon and the helper come from, or why they cannot be found */
  nativeEngine: { ok: boolean; from: string };
  /** what keeps nbuild from a full user namespace here, with the fix (src/sandbox/diagnose.ts) */
  problems: Finding[];
  probe: HostProbe;
  /** The platforms RUN steps can run for: natively, emulated (binfmt_misc + qemu), or why not. */
  platforms: RunSupport[];
}

// Both codecs live in the layer engine (zstd and libdeflate linked in).
function compression(): Compression {
  try {
    const e = engineInfo();
    return { gzip: { available: true, via: e.deflate }, zstd: { available: true, via: `zstd ${e.zstd}` } };
  } catch (e) {
    const why = `layer engine not loadable: ${(e as Error).message.split('\n')[0]}`;
    return { gzip: { available: false, via: why }, zstd: { available: false, via: why } };
  }
}

function native(): Info['nativeEngine'] {
  try {
    return { ok: true, from: nativeFiles().from };
  } catch (e) {
    return { ok: false, from: (e as Error).message };
  }
}

async function gather(): Promise<Info> {
  const probe = await probeHost();
  const me = userInfo();
  const plan = planIdMapping();
  const isolation = chooseIsolation(probe, isolationOption(undefined));
  const problems = me.uid === 0 ? [] : diagnoseHost(systemInputs(helperPath()), probe.userNamespace.ok);
  return {
    version: nbuildVersion(),
    kernel: release(),
    user: { name: me.username, uid: me.uid, gid: me.gid },
    idMapping: me.uid === 0 ? { ...plan, current: currentIdMapping() } : plan,
    isolation,
    networkNone: probe.networkNamespace.ok
      ? { available: true, reason: '' }
      : { available: false, reason: probe.networkNamespace.error },
    runNetwork: runNetwork(probe, isolation.chosen),
    compression: compression(),
    nativeEngine: native(),
    problems,
    probe,
    platforms: await runSupportAll(),
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
  }
  return lines;
}

function renderText(info: Info): string {
  const lines = [`nbuild ${info.version}, Linux ${info.kernel}, node ${process.version}`];
  lines.push(`user ${info.user.name} (uid ${info.user.uid}, gid ${info.user.gid})`, '');
  if (info.problems.length > 0) {
    lines.push('problems (each with its fix):');
    for (const p of info.problems) lines.push(`  ${describeFinding(p)}`);
    lines.push('');
  }
  lines.push('id mapping:', ...mappingText(info), '');
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
  lines.push(`RUN platforms (binfmt_misc: ${binfmtDir()}):`);
  for (const p of info.platforms) {
    const how = p.how === 'native' ? 'native' : p.how === 'emulated' ? `emulated (${p.handler}: ${p.interpreter})` : `no: ${p.reason}`;
    lines.push(`  ${p.platform.padEnd(16)} ${how}`);
  }
  lines.push(`native engine and helper: ${info.nativeEngine.from}`);
  return lines.join('\n') + '\n';
}

export const infoCommand: NbuildCommand<InfoArgs> = {
  userns: false,
  command: 'info',
  describe: 'show what this host offers: id mapping, isolation modes, networking, compression',
  builder: (y: Argv<object>) =>
    y.option('format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'output format' }),
  handler: async (argv) => {
    const info = await gather();
    process.stdout.write(argv.format === 'json' ? JSON.stringify(info, null, 2) + '\n' : renderText(info));
  },
};
