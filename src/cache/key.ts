// Cache keys are a hash chain: a step's key is sha256(parent key, "\n", the step's material).
// The first parent is the base image's config digest (or `scratch:<platform>`, executor.ts); the
// material is what the step reads (its text, build args in scope, content digests of its
// sources). Never a path of the store or the context, so a key means the same on every runner.
import { sha256Hex } from '../native/index.js';

/** The key of a step whose parent key is `parent` and whose material is `material`. */
export function chainKey(parent: string, material: string): string {
  return sha256Hex(`${parent}\n${material}`);
}
