// The rootless sandbox: user-namespace re-exec, RUN execution, USER resolution.
export type { IdMapEntry, SandboxMount, SandboxRootfs, RootfsMount, SandboxSpec, SandboxResult, SandboxIo } from './spec.js';
export { currentIdMapping, inUserNamespace, parseSubIds, readSubIds, toHostId, type SubIdRange } from './idmap.js';
export {
  enterUserNamespace,
  requireUserNamespace,
  spawnInUserNamespace,
  planIdMapping,
  type IdMappingPlan,
  type SubIdFiles,
  type UsernsSpawnOptions,
} from './userns.js';
export { runSandboxed } from './run.js';
export { resolveChown, resolveChownFrom, resolveUser, resolveUserFrom, type ResolvedUser } from './user.js';
export { helperPath } from './helper.js';
export { planRunNetwork, privateNetworkUnavailable, fallbackNotice, resolvConfFor, type NetworkRequest, type RunNetwork } from './network.js';
