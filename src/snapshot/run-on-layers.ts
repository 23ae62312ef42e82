// runOnLayers: the one way a command runs on a stack of layers, for RUN steps
// (executor/steps/run.ts) and `nbuild run` (run-image.ts). It picks the isolation mode, resolves
// the user in the layers, makes the workspace (the root over the stack and an upper folder for
// the changes), fills in what every run gets the same way (hosts, resolv.conf, ids) and runs the
// command through the helper. What differs between callers (argv, env, mounts, network) comes
// from `command`, which sees the mode and the user first.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { resolvConfFor, resolveUser, runSandboxed, type ResolvedUser, type SandboxIo, type SandboxResult, type SandboxSpec } from '../sandbox/index.js';
import { selectIsolation, type IsolationMode } from './ladder.js';
import type { ProbeOptions } from './probe.js';
import { prepareRunWorkspace, type RunWorkspace } from './workspace.js';
import { trace } from '../trace.js';

/** What the caller decides once the mode and the user are known. */
export type LayerCommand = Omit<SandboxSpec, 'rootfs' | 'isolation' | 'uid' | 'gid' | 'additionalGids' | 'hosts' | 'resolvConf'> & {
  /** Lines added to /etc/hosts after localhost (`--add-host`). */
  extraHosts?: readonly string[];
};

export interface LayerRun {
  /** The unpacked layers, top-most first; none runs on an empty root. */
  lowerDirs: string[];
  /** A fresh folder private to this run (the workspace and the empty root go there). */
  workDir: string;
  /** Where the host probe's answers are kept (Store.probeCache). */
  probe: NonNullable<ProbeOptions['cache']>;
  /** A forced isolation mode (`--isolation`); default the best the host allows. */
  isolation: IsolationMode | undefined;
  /** What runs, for the isolation error: "RUN steps", "commands in an image". */
  purpose: string;
  /** USER: `name`, `uid`, `name:group`, `uid:gid`; empty is uid 0 without a passwd lookup. */
  user: string;
  /** How a user that cannot be resolved is reported (default: the resolver's error). */
  userError?: (error: Error) => Error;
  command(mode: IsolationMode, user: ResolvedUser): Promise<LayerCommand>;
  io: SandboxIo;
}

export interface LayerRunResult {
  result: SandboxResult;
  /** The argv that ran. */
  args: string[];
  /** The changes: `commit()` gives the overlay-format upper folder. */
  workspace: RunWorkspace;
}

export async function runOnLayers(run: LayerRun): Promise<LayerRunResult> {
  let lowers = run.lowerDirs;
  if (lowers.length === 0) {
    lowers = [path.join(run.workDir, 'empty')];
    await fs.mkdir(lowers[0]);
  }
  const user = await resolveUser(lowers, run.user).catch((error: Error) => {
    throw run.userError ? run.userError(error) : error;
  });
  trace('run: user resolved');
  const mode = await selectIsolation({ cache: run.probe }, run.isolation, run.purpose);
  trace('run: isolation chosen');
  const { extraHosts = [], ...command } = await run.command(mode, user);
  const workspace = await prepareRunWorkspace(mode, lowers, path.join(run.workDir, 'workspace'));
  trace('run: workspace ready');
  const result = await runSandboxed(
    {
      ...command,
      rootfs: workspace.rootfs,
      isolation: workspace.isolation,
      uid: user.uid,
      gid: user.gid,
      additionalGids: user.additionalGids,
      hosts: `127.0.0.1\tlocalhost ${command.hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extraHosts.map((h) => `${h}\n`).join('')}`,
      resolvConf: resolvConfFor(command.network, await hostResolvConf()),
    },
    run.io,
  );
  trace('run: command done');
  return { result, args: command.args, workspace };
}

async function hostResolvConf(): Promise<string> {
  const text = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return text || 'nameserver 127.0.0.1\n';
}
