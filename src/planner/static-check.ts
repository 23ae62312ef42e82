// `nbuild check` beyond parsing: the stages as the planner sees them (references to later
// stages, cycles) and every instruction expanded with the values the Dockerfile itself gives
// its variables (ENV, ARG defaults, global ARGs), so that a word or an ENV past nbuild's limits
// (frontend/dockerfile/limits.ts) is reported at its line without building. A base image's own
// ENV is not known here: its variables count as unset, as in the build of a scratch stage.
import type { Dockerfile, Instruction } from '../frontend/dockerfile/types.js';
import { expandInstruction } from '../frontend/dockerfile/index.js';
import { envTooLongError } from '../frontend/dockerfile/limits.js';
import { declareArgs, hostPlatform } from './args.js';
import { planStages } from './plan.js';
import { DockerfileError } from '../errors.js';

/** Throws the first DockerfileError a build of any stage would meet before running anything. */
export function checkStatically(dockerfile: Dockerfile): void {
  const { stages } = planStages(dockerfile, { buildArgs: new Map(), platform: hostPlatform(), checkOnly: true });
  // ENV at the end of each stage, for the stages built FROM it.
  const finalEnv = new Map<number, Map<string, string>>();
  const childrenLeft = new Map<number, number>();
  for (const s of stages) if (s.base.kind === 'stage') childrenLeft.set(s.base.index, (childrenLeft.get(s.base.index) ?? 0) + 1);
  for (const planned of stages) {
    const base = planned.base;
    const env = base.kind === 'stage' ? new Map(finalEnv.get(base.index)) : new Map<string, string>();
    if (base.kind === 'stage') {
      // Free what no later stage needs: 10,000 stages must not hold 10,000 environments.
      const left = (childrenLeft.get(base.index) ?? 1) - 1;
      childrenLeft.set(base.index, left);
      if (left === 0) finalEnv.delete(base.index);
    }
    let envLength = 0;
    for (const [k, v] of env) envLength += k.length + 1 + v.length;
    const args = new Map<string, string>();
    const lookup = (name: string): string | undefined => env.get(name) ?? args.get(name);
    for (const instr of planned.stage.instructions) {
      let expanded: Instruction;
      try {
        expanded = expandInstruction(instr, lookup, dockerfile.escape);
      } catch (error) {
        // `${V:?msg}` may hold with a base image's ENV or a build arg: only a limit is certain.
        if (error instanceof DockerfileError && error.code === 'LIMIT') throw error;
        continue;
      }
      if (expanded.kind === 'arg') declareArgs(args, expanded, new Map(), (w) => w, planned.globalArgs);
      if (expanded.kind === 'env') {
        for (const { key, value } of expanded.pairs) {
          const old = env.get(key);
          if (old !== undefined) envLength -= key.length + 1 + old.length;
          env.set(key, value);
          envLength += key.length + 1 + value.length;
        }
        const error = envTooLongError(envLength, expanded);
        if (error) throw error;
      }
    }
    if ((childrenLeft.get(planned.stage.index) ?? 0) > 0) finalEnv.set(planned.stage.index, env);
  }
}
