// Steps that only change the image config: they add an `empty_layer` history entry (ONBUILD
// none, as in BuildKit).
import * as path from 'node:path';
import { isIP } from 'node:net';
import type { Instruction, CommandLine } from '../../frontend/dockerfile/types.js';
import { DockerfileError } from '../../errors.js';
import { envLength, expansionLookup, setEnv, shellOf, type ContainerConfig, type StageState } from '../state.js';
import { expandInstruction } from '../../frontend/dockerfile/index.js';
import type { StageFlags, Step } from '../step.js';
import { envTooLongError } from '../../frontend/dockerfile/limits.js';
import { goList, goQuoteList, healthcheckHistory } from '../history.js';

export type MetadataInstruction = Exclude<Instruction, { kind: 'run' | 'copy' | 'add' | 'from' | 'arg' }>;

export function isMetadataInstruction(instr: Instruction): instr is MetadataInstruction {
  return !['run', 'copy', 'add', 'from', 'arg'].includes(instr.kind);
}

/**
 * The step of a metadata instruction: its history text (BuildKit's, computed from the config so
 * far) and its change. The stage's config is its own (executor.ts copies it per stage): the
 * change edits maps in place, since copying them per step made 100,000 LABELs take O(n²).
 */
export const metadataStep: Step<MetadataInstruction> = {
  describe(raw, stage, build) {
    const instr = expandInstruction(raw, expansionLookup(stage), build.escape);
    const { createdBy, change } = describeMetadata(instr, stage.config);
    return { kind: 'config', createdBy, material: createdBy ?? JSON.stringify(instr.source.original), change };
  },
};

/** An expanded metadata instruction's history text (undefined: none) and config change. */
export function describeMetadata(instr: MetadataInstruction, config: Readonly<ContainerConfig>): { createdBy: string | undefined; change(state: StageState, flags: StageFlags): void } {
  switch (instr.kind) {
    case 'env':
      return {
        createdBy: `ENV ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`,
        change: (state) => {
          for (const { key, value } of instr.pairs) setEnv(state.config, key, value);
          const tooLong = envTooLongError(envLength(state.config), instr);
          if (tooLong) throw tooLong;
        },
      };
    case 'label':
      return {
        createdBy: `LABEL ${instr.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`,
        change: ({ config: c }) => {
          c.Labels ??= {};
          for (const { key, value } of instr.pairs) c.Labels[key] = value;
        },
      };
    case 'maintainer':
      return { createdBy: `MAINTAINER ${instr.name}`, change: (state) => void (state.author = instr.name) };
    case 'expose': {
      const ports = instr.ports.flatMap((p) => expandPorts(p, instr));
      return {
        createdBy: `EXPOSE ${goList(ports)}`,
        change: ({ config: c }) => {
          c.ExposedPorts ??= {};
          for (const port of ports) c.ExposedPorts[port] = {};
        },
      };
    }
    case 'volume':
      for (const v of instr.paths) if (v.trim() === '') throw new DockerfileError(loc(instr), 'VOLUME specified can not be an empty string');
      return {
        createdBy: `VOLUME ${goList(instr.paths)}`,
        change: ({ config: c }) => {
          c.Volumes ??= {};
          for (const v of instr.paths) c.Volumes[v] = {};
        },
      };
    case 'user':
      return { createdBy: `USER ${instr.user}`, change: ({ config }) => void (config.User = instr.user) };
    case 'workdir': {
      const dir = resolveWorkdir(config.WorkingDir, instr.path);
      return { createdBy: `WORKDIR ${dir}`, change: ({ config: c }) => void (c.WorkingDir = dir) };
    }
    case 'cmd': {
      const cmd = commandArgs(instr.command, shellOf(config));
      return {
        createdBy: `CMD ${goQuoteList(cmd)}`,
        change: ({ config: c }, flags) => {
          c.Cmd = cmd;
          flags.cmdSet = true;
        },
      };
    }
    case 'entrypoint': {
      const entrypoint = commandArgs(instr.command, shellOf(config));
      return {
        createdBy: `ENTRYPOINT ${goQuoteList(entrypoint)}`,
        change: ({ config: c }, flags) => {
          c.Entrypoint = entrypoint;
          // An ENTRYPOINT resets a CMD inherited from the base (Docker's rule).
          if (!flags.cmdSet) c.Cmd = null;
        },
      };
    }
    case 'shell':
      return { createdBy: `SHELL ${goList(instr.shell)}`, change: ({ config: c }) => void (c.Shell = [...instr.shell]) };
    case 'stopsignal':
      return { createdBy: `STOPSIGNAL ${instr.signal}`, change: ({ config: c }) => void (c.StopSignal = instr.signal) };
    case 'healthcheck': {
      const h = healthcheck(instr);
      return { createdBy: healthcheckHistory(h), change: ({ config: c }) => void (c.Healthcheck = h) };
    }
    case 'onbuild':
      // No history entry (BuildKit's); the chain still moves, so later keys know the trigger.
      return { createdBy: undefined, change: ({ config: c }) => void (c.OnBuild ??= []).push(instr.expression) };
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
