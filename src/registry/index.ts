// The registry module's public API (DESIGN registry/): pull, push, base-image resolution,
// the protocol client, credentials and the mirrors configuration.
export { pullImage, resolveBaseImage, type PullEvent, type PullOptions, type ResolveOptions } from './pull.js';
export { pushImage, pushIndex, type PushEvent, type PushOptions } from './push.js';
export { RegistryClient, type ClientOptions, type ManifestAnswer } from './client.js';
export { RegistrySession, type SessionOptions } from './session.js';
export type { Credentials } from './auth.js';
export { lookupCredentials, storeCredentials, defaultAuthFile, authFilePaths, loginKey } from './auth-config.js';
export { loadRegistriesConfig, parseRegistriesToml, resolveEndpoints, configPaths, type RegistriesConfig, type RegistryEntry, type Endpoint } from './registries-config.js';
export { parsePlatform, formatPlatform, hostPlatform, type PlatformSpec } from './platform.js';
export { defaultRetryPolicy, type RetryPolicy } from './retry.js';
