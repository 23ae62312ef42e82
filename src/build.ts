// The programmatic API of `nbuild build`: options in, an image out.
// The CLI is a thin adapter over this; progress is a subscriber to events.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseDockerfile, type Instruction } from './frontend/dockerfile/index.js';
import { planBuild, type BuildPlan, type PlanOptions } from './planner/plan.js';
import { executePlan, onbuildTriggers } from './executor/executor.js';
import { resolveBaseImage } from './executor/base-image.js';
import { UrlSources } from './executor/steps/add-sources.js';
import type { BuildEvent } from './executor/events.js';
import type { ImageResolver } from './executor/base-image.js';
import { BuildContext } from './context/context.js';
import { Store } from './store/store.js';
import type { Image } from './image/image.js';
import type { Compression } from './image/media-types.js';
import { parseReference } from './image/reference.js';
import { writeOutputs, type OutputSpec } from './export/outputs.js';
import { NbuildError, RegistryError } from './errors.js';
import { StatCache } from './executor/content-hash.js';
import { exportCache, importCache, type CacheEntry, type CacheSpec } from './executor/cache-export.js';
import { STAT_CACHE_FILE } from './store/check.js';
import { trace } from './trace.js';
import type { SecretSource } from './executor/context.js';
import type { SessionOptions } from './registry/session.js';
import { UsageError } from './errors.js';

export interface BuildOptions {
  storeRoot: string;
  contextDir: string;
  /** Path of the Dockerfile; default CONTEXT/Dockerfile. */
  dockerfile?: string;
  /** The Dockerfile's text when read from stdin (`-f -`). */
  dockerfileText?: string;
  tags?: string[];
  buildArgs?: ReadonlyMap<string, string>;
  target?: string;
  labels?: ReadonlyMap<string, string>;
  noCache?: boolean;
  /** --squash: this build's layers become one; --squash-all: one layer in all. */
  squash?: 'none' | 'build' | 'all';
  /** When base images are looked up in their registry: always (--pull), missing (default), never. */
  pull?: boolean | PullPolicy;
  compression?: Compression;
  compressionLevel?: number;
  /** RUN's network: 'default' (Docker's: a namespace of the step's own), 'host' or 'none'. */
  network?: 'default' | 'host' | 'none';
  /** Seconds since the epoch (SOURCE_DATE_EPOCH / --timestamp). */
  timestamp?: number;
  secrets?: ReadonlyMap<string, SecretSource>;
  /** --add-host NAME:IP, as `IP\tNAME` lines of RUN's /etc/hosts. */
  extraHosts?: readonly string[];
  /** --shm-size in bytes. */
  shmSize?: number;
  /** --no-cache-filter: stage names whose steps all run. */
  noCacheStages?: readonly string[];
  /** --annotation: manifest annotations. */
  annotations?: Readonly<Record<string, string>>;
  /** Registry flags (--tls-verify, --authfile, --creds) for base-image pulls, pushes and registry caches. */
  registry?: SessionOptions;
  outputs?: OutputSpec[];
  iidfile?: string;
  metadataFile?: string;
  onEvent?: (event: BuildEvent) => void;
  signal?: AbortSignal;
  /** --cache-from: read into the store before the build (a cache that cannot be read is a warning). */
  cacheFrom?: CacheSpec[];
  /** --cache-to: the cache records this build used, and their layers, written after it. */
  cacheTo?: CacheSpec[];
  /** Looks up base images the store does not hold (a registry pull). */
  resolveRemote?: ImageResolver;
}

export type PullPolicy = 'always' | 'missing' | 'never';

export interface BuildResult {
  image: Image;
  /** Normalised names the image was stored under. */
  names: string[];
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  trace('build: start');
  const dockerfilePath = path.resolve(options.dockerfile ?? path.join(options.contextDir, 'Dockerfile'));
  const displayName = options.dockerfileText !== undefined ? 'Dockerfile' : path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
  const text = options.dockerfileText ?? (await readDockerfile(dockerfilePath, displayName));
  const dockerfile = parseDockerfile(text, displayName);
  const names = (options.tags ?? []).map((t) => parseReference(t).toString());
  const plan = planBuild(dockerfile, { buildArgs: options.buildArgs, target: options.target });
  for (const name of options.noCacheStages ?? []) {
    if (!plan.dockerfile.stages.some((s) => s.name === name.toLowerCase())) throw new UsageError(`--no-cache-filter ${name}: no stage of that name in ${displayName}`);
  }
  const emit = options.onEvent ?? (() => undefined);
  for (const w of dockerfile.warnings) emit({ type: 'warning', message: `${w.file}:${w.line}: ${w.message}` });
  trace('build: parsed and planned');
  // A signal during parsing stops the build here; executePlan checks again as it starts.
  options.signal?.throwIfAborted();
  const store = await Store.open(options.storeRoot);
  trace('build: store open');
  // The base images' blobs are leased while the build runs (executor/base-image.ts).
  try {
    return await buildIn(store, options, { dockerfilePath, dockerfile, names, plan, emit });
  } finally {
    await store.releaseLease();
  }
}

/** What build() knows before it opens the store. */
interface Parsed {
  dockerfilePath: string;
  dockerfile: ReturnType<typeof parseDockerfile>;
  names: string[];
  plan: ReturnType<typeof planBuild>;
  emit: (event: BuildEvent) => void;
}

async function buildIn(store: Store, options: BuildOptions, { dockerfilePath, dockerfile, names, plan: firstPlan, emit }: Parsed): Promise<BuildResult> {
  const pull: PullPolicy = options.pull === true ? 'always' : options.pull === false || options.pull === undefined ? 'missing' : options.pull;
  const resolveRemote = pull === 'never' ? undefined : (options.resolveRemote ?? registryResolver(store, pull === 'always', options.registry ?? {}));
  const { plan, baseImages } = await planWithTriggers(firstPlan, { buildArgs: options.buildArgs, target: options.target }, (ref) =>
    resolveBaseImage(store, ref, resolveRemote, pull === 'always'),
  );
  const context = await BuildContext.open(options.contextDir, options.dockerfileText !== undefined ? undefined : dockerfilePath);
  await importCaches(store, options.cacheFrom ?? [], emit);
  const statCache = await StatCache.load(path.join(store.root, 'cache', STAT_CACHE_FILE), store.tmpRoot);
  const used: CacheEntry[] = [];
  trace('build: context and stat cache ready');
  let downloads: Promise<string> | undefined;
  const urls = new UrlSources(store, () => (downloads ??= store.tempDir('add-urls')));
  const image = await executePlan(
    {
      store,
      context,
      compression: options.compression ?? 'gzip',
      compressionLevel: options.compressionLevel,
      timestamp: options.timestamp,
      network: options.network ?? 'default',
      noCache: options.noCache ?? false,
      statCache,
      secrets: options.secrets ?? new Map(),
      urls,
      extraHosts: options.extraHosts,
      shmSize: options.shmSize,
      emit,
      signal: options.signal,
      cacheUsed: (key, record, stage) => used.push({ key, record, stage }),
    },
    plan,
    {
      labels: options.labels ?? new Map(),
      resolveRemote,
      squash: options.squash,
      pull: pull === 'always',
      noCacheStages: new Set((options.noCacheStages ?? []).map((n) => n.toLowerCase())),
      annotations: options.annotations,
      baseImages,
    },
  ).finally(async () => {
    if (downloads) await store.removeTempDir(await downloads).catch(() => undefined);
  });
  trace('build: plan executed');
  // Between phases too: an interrupted build stores no image (each write below is atomic).
  const stopIfInterrupted = (): void => options.signal?.throwIfAborted();
  stopIfInterrupted();
  await statCache.save();
  await store.writeImage(image);
  stopIfInterrupted();
  for (const name of names) await store.tag(name, image);
  trace('build: image stored and tagged');
  stopIfInterrupted();
  await writeOutputs(store, image, names, options.outputs ?? [], options.registry ?? {});
  trace('build: outputs written');
  stopIfInterrupted();
  for (const spec of options.cacheTo ?? []) {
    try {
      await exportCache(store, used, spec, plan.target);
    } catch (error) {
      if (!spec.ignoreError) throw error;
      emit({ type: 'warning', message: `cache to ${spec.type === 'local' ? spec.dir : spec.ref} not written (ignore-error=true): ${(error as Error).message}` });
    }
  }
  if (options.iidfile) await fs.writeFile(options.iidfile, image.configDigest.toString());
  if (options.metadataFile) {
    const metadata = {
      'containerimage.digest': image.manifestDigest.toString(),
      'containerimage.config.digest': image.configDigest.toString(),
      'image.name': names.join(','),
    };
    await fs.writeFile(options.metadataFile, JSON.stringify(metadata, null, 2) + '\n');
  }
  return { image, names };
}

/**
 * The plan, with the ONBUILD triggers of the base images read first, as BuildKit does before
 * it decides which stages to build: a trigger may read a stage nothing else needs
 * (`ONBUILD COPY --from=NAME`). The images resolved on the way are handed to the executor.
 */
async function planWithTriggers(
  first: BuildPlan,
  options: PlanOptions,
  resolve: (ref: string) => Promise<Image>,
): Promise<{ plan: BuildPlan; baseImages: Map<string, Image> }> {
  const { dockerfile } = first;
  const baseImages = new Map<string, Image>();
  const imageTriggers = new Map<string, Instruction[]>();
  let plan = first;
  for (;;) {
    const refs = [...new Set(plan.stages.flatMap((s) => (s.base.kind === 'image' && !baseImages.has(s.base.ref) ? [s.base.ref] : [])))];
    if (refs.length === 0) return { plan, baseImages };
    await Promise.all(
      refs.map(async (ref) => {
        const image = await resolve(ref);
        baseImages.set(ref, image);
        imageTriggers.set(ref, onbuildTriggers(image.config.config?.OnBuild ?? [], dockerfile.file, ref));
      }),
    );
    plan = planBuild(dockerfile, { ...options, imageTriggers });
  }
}

/** A cache that is missing or unreadable only costs time: warn and build without it (as BuildKit). */
async function importCaches(store: Store, specs: CacheSpec[], emit: (e: BuildEvent) => void): Promise<void> {
  for (const spec of specs) {
    const where = spec.type === 'local' ? spec.dir : spec.ref;
    try {
      const n = await importCache(store, spec);
      emit({ type: 'info', message: `imported ${n} cache record(s) from ${where}` });
    } catch (error) {
      emit({ type: 'warning', message: `cache from ${where} not used: ${(error as Error).message}` });
    }
  }
}

/** Base images the store lacks come from their registry (loaded on first use). */
function registryResolver(store: Store, pull: boolean, session: SessionOptions): ImageResolver {
  return async (ref) => {
    const { resolveBaseImage } = await import('./registry/index.js');
    try {
      return await resolveBaseImage(store, ref, { ...session, pull });
    } catch (error) {
      // Transport errors name the host only; the user needs to know which FROM failed.
      if (error instanceof RegistryError && !error.message.includes(ref)) {
        throw new RegistryError(`pulling base image ${ref}: ${error.message}`, { status: error.status, codes: error.codes, temporary: error.temporary, cause: error });
      }
      throw error;
    }
  };
}

async function readDockerfile(file: string, display: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NbuildError('DOCKERFILE_NOT_FOUND', code === 'ENOENT' ? `${display}: no such file` : `${display}: ${(error as Error).message}`, { cause: error });
  }
}
