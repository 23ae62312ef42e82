// Steps that only change the image config: they add an `empty_layer` history entry (ONBUILD
// none, as in BuildKit).
import * as path from 'node:path';
import { isIP } from 'node:net';
import type { Instruction, CommandLine } from '../../frontend/dockerfile/types.js';
import { DockerfileError } from '../../errors.js';
import { envLength, setEnv, shellOf, type StageState } from '../state.js';
import { envTooLongError } from '../../frontend/dockerfile/limits.js';
import { goList, goQuoteList, healthcheckHistory } from '../history.js';

export type MetadataInstruction = Exclude<Instruction, { kind: 'run' | 'copy' | 'add' | 'from' | 'arg' }>;

export function isMetadataInstruction(instr: Instruction): instr is MetadataInstruction {
  return !['run', 'copy', 'add', 'from', 'arg'].includes(instr.kind);
}

/**
 * Applies an (already expanded) metadata instruction; returns the history text (BuildKit's), if
 * any. The stage's config is its own (executor.ts copies it per stage): maps change in place,
 * since copying them per step made 100,000 LABELs take O(n²).
 */
export function applyMetadata(state: StageState, instr: MetadataInstruction, flags: { cmdSet: boolean }): string | undefined {
  const c = state.config;
  switch (instr.kind) {
    case 'env':
      for (const { key, value } of instr.pairs) setEnv(c, key, value);
      const tooLong = envTooLongError(envLength(c), instr);
      if (tooLong) throw tooLong;
      return `ENV ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`;
    case 'label':
      c.Labels ??= {};
      for (const { key, value } of instr.pairs) c.Labels[key] = value;
      return `LABEL ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`;
    case 'maintainer':
      state.author = instr.name;
      return `MAINTAINER ${instr.name}`;
    case 'expose':
      c.ExposedPorts ??= {};
      const ports = instr.ports.flatMap((p) => expandPorts(p, instr));
      for (const port of ports) c.ExposedPorts[port] = {};
      return `EXPOSE ${goList(ports)}`;
    case 'volume':
      c.Volumes ??= {};
      for (const v of instr.paths) {
        if (v.trim() === '') throw new DockerfileError(loc(instr), 'VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return `VOLUME ${goList(instr.paths)}`;
    case 'user':
      c.User = instr.user;
      return `USER ${instr.user}`;
    case 'workdir':
      c.WorkingDir = resolveWorkdir(c.WorkingDir, instr.path);
      return `WORKDIR ${c.WorkingDir}`;
    case 'cmd':
      c.Cmd = commandArgs(instr.command, shellOf(c));
      flags.cmdSet = true;
      return `CMD ${goQuoteList(c.Cmd)}`;
    case 'entrypoint':
      c.Entrypoint = commandArgs(instr.command, shellOf(c));
      // An ENTRYPOINT resets a CMD inherited from the base (Docker's rule).
      if (!flags.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`;
    case 'shell':
      c.Shell = [...instr.shell];
      return `SHELL ${goList(instr.shell)}`;
    case 'stopsignal':
      c.StopSignal = instr.signal;
      return `STOPSIGNAL ${instr.signal}`;
    case 'healthcheck':
      c.Healthcheck = healthcheck(instr);
      return healthcheckHistory(c.Healthcheck);
    case 'onbuild':
      (c.OnBuild ??= []).push(instr.expression);
      return undefined;
  }
}

function healthcheck(instr: Extract<Instruction, { kind: 'healthcheck' }>): NonNullable<StageState['config']['Healthcheck']> {
  const h: NonNullable<StageState['config']['Healthcheck']> = { Test: [...instr.test] };
  if (instr.interval !== undefined) h.Interval = instr.interval;
  if (instr.timeout !== undefined) h.Timeout = instr.timeout;
  if (instr.startPeriod !== undefined) h.StartPeriod = instr.startPeriod;
  if (instr.startInterval !== undefined) h.StartInterval = instr.startInterval;
  if (instr.retries !== undefined) h.Retries = instr.retries;
  return h;
}

/** Shell form runs through the current SHELL; exec form is taken as written. */
export function commandArgs(command: CommandLine, shell: string[]): string[] {
  return command.form === 'exec' ? [...command.args] : [...shell, command.script];
}

/** WORKDIR resolves a relative path against the previous WORKDIR. */
export function resolveWorkdir(current: string | undefined, next: string): string {
  return path.posix.resolve(current || '/', next);
}

/**
 * `[IP:][HOST_PORT:]PORT[-TO][/PROTO]` → the ports exposed (BuildKit's parsePorts: an IP and a
 * host port are accepted, with a check warning, and only the container port is exposed).
 */
function expandPorts(spec: string, instr: Instruction): string[] {
  const parts = spec.trim().split(':');
  const n = parts.length;
  const ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  const hostPort = n >= 2 ? parts[n - 2] : '';
  if (ip !== '' && isIP(ip.replace(/^\[(.*)\]$/, '$1')) === 0) throw new DockerfileError(loc(instr), `EXPOSE: invalid IP address: ${ip}`);
  if (hostPort !== '' && !/^\d+(-\d+)?$/.test(hostPort)) throw new DockerfileError(loc(instr), `EXPOSE: invalid hostPort: ${hostPort}`);
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(parts[n - 1]);
  if (!m) throw new DockerfileError(loc(instr), `EXPOSE: invalid port "${spec}" (use PORT[/PROTO] or FROM-TO[/PROTO])`);
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (to < from || to > 65535) throw new DockerfileError(loc(instr), `EXPOSE: invalid port range "${spec}"`);
  const ports: string[] = [];
  for (let p = from; p <= to; p++) ports.push(`${p}/${proto}`);
  return ports;
}

/** Where an instruction is: its file, first line and last line (a continued instruction spans several). */
export function loc(instr: Instruction): { file: string; line: number; endLine: number } {
  return { file: instr.source.file, line: instr.source.range.start.line, endLine: instr.source.range.end.line };
}
