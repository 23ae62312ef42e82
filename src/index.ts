// nbuild's public API (package.json `exports`): what the CLI does, as functions with typed
// options and results. The CLI (src/cli/) only maps flags to these options and renders results.
//
// The user namespace: build() with RUN steps or base-image layers, runImage(), loadImages(),
// removeImages(), pruneStore() and checkStore() work on files owned by the image's users, so they
// need this process to be root of a user namespace (or real root). Call enterUserNamespace() at
// the start of the program: it re-runs the program (same argv) as root of a new user namespace
// and the outer process relays signals and exits with its status, as the CLI does. Without it
// these calls fail with NbuildError code 'USERNS' (build: 'SANDBOX_NOT_IN_USERNS' at its first
// RUN step, or 'NEEDS_USERNS' unpacking a layer). listImages, inspectImages, imageHistory,
// saveImages, tagImage, pullImage, pushImage and checkDockerfile work in any process.
export { build, type BuildOptions, type BuildResult, type PullPolicy } from './build.js';
export { runImage, type RunImageOptions } from './run-image.js';
export { checkDockerfile, type CheckDockerfileOptions, type CheckDockerfileResult, type CheckFinding } from './check-dockerfile.js';
export * from './images/index.js';
export { enterUserNamespace, requireUserNamespace } from './sandbox/userns.js';
export { resolveStoreRoot } from './store/root.js';
export { NbuildError, UsageError, DockerfileError, RunStepError, RegistryError, StoreError, isNbuildError, type SourceLocation } from './errors.js';
export type { BuildEvent } from './executor/events.js';
export type { OutputSpec } from './export/outputs.js';
export type { CacheSpec } from './cache/export.js';
export type { SecretSource } from './executor/context.js';
export { parseBuildContexts, type NamedContextSpec } from './context/named-contexts.js';
export type { SessionOptions as RegistryOptions } from './registry/session.js';
export type { SandboxResult } from './sandbox/spec.js';
export type { IsolationMode } from './snapshot/ladder.js';
export type { Platform } from './image/platform.js';
export type { Image } from './image/image.js';
export type { ImageIndex } from './image/image-index.js';
export type { GcResult } from './store/gc.js';
export type { CheckResult } from './store/check.js';
export type { PullEvent } from './registry/pull.js';
export type { PushEvent } from './registry/push.js';
