// ARG: declares build arguments in the stage. Nothing in the image changes, but RUN sees the
// values (its environment, its `|N K=V` history, its cache key), so the values are material.
import type { ArgInstruction } from '../../frontend/dockerfile/types.js';
import { processWord, ShellExpansionError } from '../../frontend/dockerfile/index.js';
import { declareArgs } from '../../planner/args.js';
import { DockerfileError } from '../../errors.js';
import { envLookup } from '../state.js';
import { argHistory } from '../history.js';
import type { Step } from '../step.js';
import { loc } from './metadata.js';

export const argStep: Step<ArgInstruction> = {
  describe(instr, stage, build) {
    // The values this ARG sets, over the stage's: a later default sees an earlier name of the same ARG.
    const set = new Map<string, string>();
    const env = envLookup(stage.config);
    const lookup = (name: string): string | undefined => env(name) ?? set.get(name) ?? stage.args.get(name);
    // A default is expanded only when no --build-arg gives the value (`ARG B=${A:?}` with B given is fine).
    const word = (w: string): string => {
      try {
        return processWord(w, lookup, build.escape);
      } catch (error) {
        if (!(error instanceof ShellExpansionError)) throw error;
        throw new DockerfileError(loc(instr), `ARG: ${error.detail}`, { code: 'SHELL_EXPANSION', cause: error });
      }
    };
    declareArgs(set, instr, build.buildArgs, word, build.globalArgs);
    const names = instr.args.map((a) => a.name);
    const value = (name: string): string | undefined => set.get(name) ?? stage.args.get(name);
    const createdBy = argHistory(names, value);
    return {
      kind: 'config',
      createdBy,
      // The values (not only the text) decide what later steps see.
      material: JSON.stringify([createdBy, ...names.map((n) => [n, value(n) ?? null])]),
      change: (state) => {
        for (const [name, v] of set) state.args.set(name, v);
        for (const name of names) if (!state.declared.includes(name)) state.declared.push(name);
      },
    };
  },
};
