// What every step handler gets: the store, the build's options and the
// event sink. Steps never read process-wide state.
import type { Store } from '../store/store.js';
import type { Compression } from '../image/media-types.js';
import type { BuildContext } from '../context/context.js';
import type { BuildEvent } from './events.js';
import type { StatCache } from './content-hash.js';
import type { CacheRecord } from '../store/cache-record.js';
import type { UrlSources } from './steps/add-sources.js';

export interface StepEnv {
  store: Store;
  context: BuildContext;
  compression: Compression;
  compressionLevel?: number;
  /** SOURCE_DATE_EPOCH / --timestamp: clamps mtimes and sets `created`. */
  timestamp?: number;
  network: 'host' | 'none';
  noCache: boolean;
  /** Content digests of context files, by stat identity (COPY cache keys). */
  statCache: StatCache;
  secrets: ReadonlyMap<string, string>;
  /** ADD's URLs: downloaded at most once per build, revalidated against the store's record. */
  urls: UrlSources;
  emit(event: BuildEvent): void;
  signal?: AbortSignal;
  /** Told of every cache record a layer step used or made (for --cache-to). */
  cacheUsed?(key: string, record: CacheRecord): void;
}
