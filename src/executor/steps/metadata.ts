// Steps that only change the image config: they add an `empty_layer` history entry.
import * as path from 'node:path';
import type { Instruction, CommandLine } from '../../frontend/dockerfile/types.js';
import { DockerfileError } from '../../errors.js';
import { envLength, setEnv, shellOf, type StageState } from '../state.js';
import { envTooLongError } from '../../frontend/dockerfile/limits.js';

export type MetadataInstruction = Exclude<Instruction, { kind: 'run' | 'copy' | 'add' | 'from' | 'arg' }>;

export function isMetadataInstruction(instr: Instruction): instr is MetadataInstruction {
  return !['run', 'copy', 'add', 'from', 'arg'].includes(instr.kind);
}

/**
 * Applies an (already expanded) metadata instruction; returns the history text. The stage's
 * config is its own (executor.ts copies it per stage): maps change in place, since copying
 * them per step made 100,000 LABELs take O(n²).
 */
export function applyMetadata(state: StageState, instr: MetadataInstruction, flags: { cmdSet: boolean }): string {
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
      for (const port of instr.ports.flatMap((p) => expandPorts(p, instr))) c.ExposedPorts[port] = {};
      return `EXPOSE ${instr.ports.join(' ')}`;
    case 'volume':
      c.Volumes ??= {};
      for (const v of instr.paths) {
        if (v.trim() === '') throw new DockerfileError(loc(instr), 'VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return `VOLUME [${instr.paths.join(' ')}]`;
    case 'user':
      c.User = instr.user;
      return `USER ${instr.user}`;
    case 'workdir':
      c.WorkingDir = resolveWorkdir(c.WorkingDir, instr.path);
      return `WORKDIR ${c.WorkingDir}`;
    case 'cmd':
      c.Cmd = commandArgs(instr.command, shellOf(c));
      flags.cmdSet = true;
      return `CMD ${JSON.stringify(c.Cmd)}`;
    case 'entrypoint':
      c.Entrypoint = commandArgs(instr.command, shellOf(c));
      // An ENTRYPOINT resets a CMD inherited from the base (Docker's rule).
      if (!flags.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${JSON.stringify(c.Entrypoint)}`;
    case 'shell':
      c.Shell = [...instr.shell];
      return `SHELL ${JSON.stringify(instr.shell)}`;
    case 'stopsignal':
      c.StopSignal = instr.signal;
      return `STOPSIGNAL ${instr.signal}`;
    case 'healthcheck':
      c.Healthcheck = healthcheck(instr);
      return `HEALTHCHECK ${instr.test.join(' ')}`;
    case 'onbuild':
      (c.OnBuild ??= []).push(instr.expression);
      return `ONBUILD ${instr.expression}`;
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

function expandPorts(spec: string, instr: Instruction): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec.trim());
  if (!m) throw new DockerfileError(loc(instr), `EXPOSE: invalid port "${spec}" (use PORT[/PROTO] or FROM-TO[/PROTO])`);
  const from = Number(m[1]);
  const to = m[2] !== undefined ? Number(m[2]) : from;
  const proto = (m[3] ?? 'tcp').toLowerCase();
  if (to < from || to > 65535) throw new DockerfileError(loc(instr), `EXPOSE: invalid port range "${spec}"`);
  const ports: string[] = [];
  for (let p = from; p <= to; p++) ports.push(`${p}/${proto}`);
  return ports;
}

export function loc(instr: Instruction): { file: string; line: number } {
  return { file: instr.source.file, line: instr.source.range.start.line };
}
