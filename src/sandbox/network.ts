// RUN's network. Docker gives a step a network namespace of its own with outbound access; rootless,
// nbuild does it with slirp4netns (docs/decisions.md, "RUN network: a namespace per step, through
// slirp4netns"). Where the host does not allow that, the default falls back to the host's network
// and the build says so once, with the reason and the fix; `host` and `none` are taken as asked.
import { NbuildError } from '../errors.js';
import type { HostProbe } from '../snapshot/probe.js';
import type { SandboxSpec } from './spec.js';

/** What the Dockerfile or the command line asks for (`default` is Docker's default). */
export type NetworkRequest = 'default' | 'host' | 'none';

export type RunNetwork = Pick<SandboxSpec, 'network' | 'slirp4netns'> & {
  /** Set when `default` had to use the host's network: why, and the fix. */
  fallback?: string;
};

/** slirp4netns's DNS forwarder (its address with --configure); it asks the host's resolver. */
export const SLIRP_DNS = '10.0.2.3';

type NetworkProbe = Pick<HostProbe, 'networkNamespace' | 'slirp4netns'>;

/** Why this host cannot give a step its own network with outbound access, or undefined. */
export function privateNetworkUnavailable(probe: NetworkProbe, isolation: 'namespaces' | 'chroot' = 'namespaces'): string | undefined {
  if (isolation === 'chroot') return 'chroot isolation makes no network namespace';
  if (!probe.networkNamespace.ok) return `network namespaces are refused (${probe.networkNamespace.error})`;
  if (!probe.slirp4netns.binary) return 'slirp4netns is not installed (fix: apt-get install slirp4netns)';
  if (!probe.slirp4netns.devTun.ok) {
    const code = probe.slirp4netns.devTun.error.replace(/^\/dev\/net\/tun: /, '');
    return `/dev/net/tun is not open to this user (${code}) and slirp4netns needs it (fix: an administrator can chmod 0666 /dev/net/tun, its mode on most distributions)`;
  }
  return undefined;
}

/** The network a RUN step gets for `requested` on this host and isolation mode. */
export function planRunNetwork(requested: NetworkRequest, probe: NetworkProbe, isolation: 'namespaces' | 'chroot'): RunNetwork {
  if (requested === 'host') return { network: 'host' };
  if (requested === 'none') {
    if (isolation === 'chroot') throw new NbuildError('NETWORK', '--network=none needs a network namespace, which chroot isolation does not make (see nbuild info)');
    return { network: 'none' };
  }
  const fallback = privateNetworkUnavailable(probe, isolation);
  if (fallback !== undefined || !probe.slirp4netns.binary) return { network: 'host', fallback };
  return { network: 'slirp4netns', slirp4netns: probe.slirp4netns.binary };
}

/** The one line a build prints when its RUN steps fall back to the host's network. */
export function fallbackNotice(fallback: string): string {
  return `RUN steps use the host network, not one of their own: ${fallback}; \`--network host\` asks for it explicitly`;
}

/**
 * /etc/resolv.conf for a step: the host's, except that in a namespace of its own the host's
 * nameservers (a loopback resolver above all) are replaced by slirp4netns's forwarder.
 */
export function resolvConfFor(network: SandboxSpec['network'], hostText: string): string {
  if (network !== 'slirp4netns') return hostText;
  const kept = hostText.split('\n').filter((l) => l.trim() !== '' && !/^\s*nameserver\s/.test(l));
  return [`nameserver ${SLIRP_DNS}`, ...kept].join('\n') + '\n';
}
