// What every step handler gets: the store, the build's options and the
// event sink. Steps never read process-wide state.
import type { Store } from '../store/store.js';
import type { Compression } from '../image/media-types.js';
import type { BuildContext } from '../context/context.js';
import type { BuildEvent } from './events.js';
import type { StatCache } from '../cache/stat-cache.js';
import type { CacheRecord } from '../cache/record.js';
import type { UrlSources } from './steps/add-sources.js';
import type { IsolationMode } from '../snapshot/ladder.js';
import type { Ulimit } from '../sandbox/ulimit.js';

/** A build secret (`--secret id=X,src=FILE` or `id=X,env=VAR`): a file, or a value taken from the environment. */
export type SecretSource = { file: string } | { value: string };

/** A --build-context as steps read it (COPY --from=NAME, RUN --mount from=NAME), by contextKey(NAME). */
export type NamedSource = { kind: 'image'; ref: string } | { kind: 'scratch' } | { kind: 'local'; context: BuildContext };

export interface StepEnv {
  store: Store;
  context: BuildContext;
  /** --build-context: they take the place of a stage or image of their name. */
  namedContexts?: ReadonlyMap<string, NamedSource>;
  /** How this stage's new layers are written. */
  compression: Compression;
  compressionLevel?: number;
  /**
   * Set when new layers are kept uncompressed (`compression` 'none') until the image leaves the
   * store: the compression they get then. Their cache keys name it, so a build that exports
   * shares them (build.ts compresses them for its outputs).
   */
  deferredCompression?: Compression;
  /** SOURCE_DATE_EPOCH / --timestamp: clamps mtimes and sets `created`. */
  timestamp?: number;
  /** RUN's network unless a step says otherwise ('default': a namespace of its own, src/sandbox/network.ts). */
  network: 'default' | 'host' | 'none';
  /** The proxy build args (HTTP_PROXY, …) as RUN sees them; not in cache keys or the history. */
  proxyEnv?: ReadonlyMap<string, string>;
  noCache: boolean;
  /** Under noCache: the cache mount folders this build has emptied (or is emptying), once each. */
  emptiedCacheMounts: Map<string, Promise<void>>;
  /** Content digests of context files, by stat identity (COPY cache keys). */
  statCache: StatCache;
  secrets: ReadonlyMap<string, SecretSource>;
  /** --ssh: the agent socket of each id, for RUN --mount=type=ssh. */
  sshAgents?: ReadonlyMap<string, string>;
  /** ADD's URLs: downloaded at most once per build, revalidated against the store's record. */
  urls: UrlSources;
  /** --add-host: extra `IP\tNAME` lines of RUN's /etc/hosts. */
  extraHosts?: readonly string[];
  /** --shm-size in bytes (default: the helper's 64 MiB). */
  shmSize?: number;
  /** --isolation: RUN steps' mode (default: the best this host allows). */
  isolation?: IsolationMode;
  /** --run-fsync: RUN steps' fsync & co. are real (default: they return 0 without syncing). */
  runFsync?: boolean;
  /** --ulimit: resource limits of RUN commands (checked against nbuild's own). */
  ulimits?: readonly Ulimit[];
  emit(event: BuildEvent): void;
  signal?: AbortSignal;
  /** Told of every cache record a layer step used or made (for --cache-to). */
  cacheUsed?(key: string, record: CacheRecord, stage?: number): void;
}
