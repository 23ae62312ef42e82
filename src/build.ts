// The programmatic API of `nbuild build`: options in, an image out.
// The CLI is a thin adapter over this; progress is a subscriber to events.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parseDockerfile, lint, lintViolation, baseImageNames, DockerfileParseError, type CheckOptions, type Dockerfile, type Warning, type Instruction } from './frontend/dockerfile/index.js';
import { planBuild, type BuildPlan, type PlanOptions } from './planner/plan.js';
import { proxyEnv } from './planner/args.js';
import { downloadUrl, isTarArchive, archiveMaxTime, UrlSources } from './executor/steps/add-sources.js';
import { attachFrame } from './frontend/dockerfile/frame.js';
import { checkRunSupport, executePlan, onbuildTriggers } from './executor/executor.js';
import { resolveBaseImage } from './executor/base-image.js';
import type { BuildEvent } from './executor/events.js';
import type { ImageResolver } from './executor/base-image.js';
import { BuildContext } from './context/context.js';
import { Store } from './store/store.js';
import type { Image } from './image/image.js';
import type { Compression } from './image/media-types.js';
import { parseReference } from './image/reference.js';
import { checkMultiPlatformOutputs, writeOutputs, type OutputSpec } from './export/outputs.js';
import { ImageIndex } from './image/image-index.js';
import { formatPlatform, hostPlatform, normalizePlatform, type Platform } from './image/platform.js';
import { Limiter } from './limiter.js';
import type { StepEnv } from './executor/context.js';
import { DockerfileError, NbuildError, RegistryError } from './errors.js';
import { StatCache } from './executor/content-hash.js';
import { exportCache, importCache, type CacheEntry, type CacheSpec } from './executor/cache-export.js';
import { STAT_CACHE_FILE } from './store/check.js';
import { trace } from './trace.js';
import type { SecretSource } from './executor/context.js';
import type { SessionOptions } from './registry/session.js';
import { UsageError } from './errors.js';
import { checkUlimitsAgainstOwn, type Ulimit } from './sandbox/ulimit.js';

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
  /**
   * --timestamp: seconds since the epoch for every timestamp. Without it, the SOURCE_DATE_EPOCH
   * build arg (or the Dockerfile's global ARG default) gives the epoch, as in BuildKit.
   */
  timestamp?: number;
  secrets?: ReadonlyMap<string, SecretSource>;
  /** --add-host NAME:IP, as `IP\tNAME` lines of RUN's /etc/hosts. */
  extraHosts?: readonly string[];
  /** --shm-size in bytes. */
  shmSize?: number;
  /** --ulimit: resource limits of RUN commands (src/sandbox/ulimit.ts parseUlimits). */
  ulimits?: readonly Ulimit[];
  /** --no-cache-filter: stage names whose steps all run. */
  noCacheStages?: readonly string[];
  /** --annotation: manifest annotations. */
  annotations?: Readonly<Record<string, string>>;
  /** --annotation index:K=V: annotations of a multi-platform build's index (refused for one platform). */
  indexAnnotations?: Readonly<Record<string, string>>;
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
  /** --platform: the target platforms (default this host's). Two or more give one OCI image index. */
  platforms?: readonly Platform[];
}

export type PullPolicy = 'always' | 'missing' | 'never';

export interface BuildResult {
  /** The image (of a multi-platform build: the first platform's). */
  image: Image;
  /** A multi-platform build's index and its images, in --platform order. */
  index?: ImageIndex;
  images?: Image[];
  /** Normalised names the image was stored under. */
  names: string[];
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  trace('build: start');
  if (options.ulimits?.length) checkUlimitsAgainstOwn(options.ulimits);
  const dockerfilePath = path.resolve(options.dockerfile ?? (await defaultDockerfile(options.contextDir)));
  const displayName = options.dockerfileText !== undefined ? 'Dockerfile' : path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
  const text = options.dockerfileText ?? (await readDockerfile(dockerfilePath, displayName));
  try {
    return await buildDockerfile(options, text, displayName, dockerfilePath);
  } catch (error) {
    // An error at a line of this Dockerfile shows those lines under it (buildx does too).
    throw attachFrame(error, displayName, text);
  }
}

async function buildDockerfile(options: BuildOptions, text: string, displayName: string, dockerfilePath: string): Promise<BuildResult> {
  const emit = options.onEvent ?? (() => undefined);
  let dockerfile: Dockerfile;
  try {
    dockerfile = parseDockerfile(text, displayName);
  } catch (error) {
    // BuildKit reports the checks that fired before the bad line, then the error
    if (error instanceof DockerfileParseError) error.warnings.forEach((w) => emit(checkWarning(w)));
    throw error;
  }
  const names = (options.tags ?? []).map((t) => parseReference(t).toString());
  const platforms = options.platforms?.length ? options.platforms : [hostPlatform()];
  const multi = platforms.length > 1;
  if (multi) checkMultiPlatformOutputs(options.outputs ?? []);
  else if (options.indexAnnotations) throw new UsageError('--annotation index:…: a one-platform build writes no index (give two or more --platform)');
  const planOptions = { buildArgs: options.buildArgs, target: options.target };
  let plans: BuildPlan[];
  try {
    plans = platforms.map((platform) => planBuild(dockerfile, { ...planOptions, platform }));
  } catch (error) {
    // The checks of the FROM lines (an undeclared ARG, say) come before the error, as in BuildKit
    if (error instanceof DockerfileError) lint(dockerfile, dockerfile.ast, { buildArgs: options.buildArgs }).filter((w) => w.stage === undefined).forEach((w) => emit(checkWarning(w)));
    throw error;
  }
  const plan = plans[0];
  for (const name of options.noCacheStages ?? []) {
    if (!plan.dockerfile.stages.some((s) => s.name === name.toLowerCase())) throw new UsageError(`--no-cache-filter ${name}: no stage of that name in ${displayName}`);
  }
  trace('build: parsed and planned');
  // A signal during parsing stops the build here; executePlan checks again as it starts.
  options.signal?.throwIfAborted();
  const store = await Store.open(options.storeRoot);
  trace('build: store open');
  // The base images' blobs are leased while the build runs (executor/base-image.ts).
  try {
    const timestamp = options.timestamp ?? (await sourceDateEpoch(plan, store, emit));
    // The epoch as resolved is the value an `ARG SOURCE_DATE_EPOCH` sees (BuildKit's rule).
    const resolvedSourceDateEpoch = timestamp === undefined ? null : String(timestamp);
    plans = platforms.map((platform) => planBuild(dockerfile, { ...planOptions, platform, resolvedSourceDateEpoch }));
    return await buildIn(store, options, { dockerfilePath, dockerfile, names, plans, emit, timestamp });
  } finally {
    await store.releaseLease();
  }
}

/** What build() knows before it opens the store. */
interface Parsed {
  dockerfilePath: string;
  dockerfile: ReturnType<typeof parseDockerfile>;
  names: string[];
  /** One plan per target platform (a multi-platform build has two or more). */
  plans: ReturnType<typeof planBuild>[];
  emit: (event: BuildEvent) => void;
  /** --timestamp, or the epoch SOURCE_DATE_EPOCH names. */
  timestamp: number | undefined;
}

async function buildIn(store: Store, options: BuildOptions, { dockerfilePath, dockerfile, names, plans: firstPlans, emit, timestamp }: Parsed): Promise<BuildResult> {
  const pull: PullPolicy = options.pull === true ? 'always' : options.pull === false || options.pull === undefined ? 'missing' : options.pull;
  const resolveRemote = pull === 'never' ? undefined : (options.resolveRemote ?? registryResolver(store, pull === 'always', options.registry ?? {}));
  // Each platform's plan with its base images' ONBUILD triggers read first (they may need more stages).
  const resolvedSourceDateEpoch = timestamp === undefined ? null : String(timestamp);
  const triggered = await Promise.all(
    firstPlans.map((p) =>
      planWithTriggers(p, { buildArgs: options.buildArgs, target: options.target, platform: p.platform, resolvedSourceDateEpoch }, (ref, platform) =>
        resolveBaseImage(store, ref, resolveRemote, pull === 'always', platform),
      ),
    ),
  );
  const plans = triggered.map((t) => t.plan);
  const plan = plans[0];
  const multi = plans.length > 1;
  const context = await BuildContext.open(options.contextDir, options.dockerfileText !== undefined ? undefined : dockerfilePath);
  await runChecks(dockerfile, plan, store, context, options.buildArgs ?? new Map(), emit);
  await importCaches(store, options.cacheFrom ?? [], emit);
  const statCache = await StatCache.load(path.join(store.root, 'cache', STAT_CACHE_FILE), store.tmpRoot);
  const used: CacheEntry[] = [];
  trace('build: context and stat cache ready');
  let downloads: Promise<string> | undefined;
  const urls = new UrlSources(store, () => (downloads ??= store.tempDir('add-urls')));
  const env: StepEnv = {
    store,
    context,
    compression: options.compression ?? 'gzip',
    compressionLevel: options.compressionLevel,
    timestamp,
    network: options.network ?? 'default',
    proxyEnv: proxyEnv(plan.buildArgs),
    noCache: options.noCache ?? false,
    emptiedCacheMounts: new Map(),
    statCache,
    secrets: options.secrets ?? new Map(),
    extraHosts: options.extraHosts,
    shmSize: options.shmSize,
    ulimits: options.ulimits,
    emit,
    signal: options.signal,
    urls,
    cacheUsed: (key, record, stage) => used.push({ key, record, stage }),
  };
  // The platforms build side by side, their stages bounded together (a stage is most of a core).
  const limiter = new Limiter(2);
  let stepId = 0;
  const nextStepId = (): number => ++stepId;
  // One failing platform stops the others.
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(options.signal?.reason), { once: true });
  env.signal = abort.signal;
  // A RUN no platform can run is refused before any platform starts (each plan checks its own too).
  await Promise.all(plans.map((p) => checkRunSupport(p)));
  const settled = await Promise.allSettled(
    plans.map((p) =>
      executePlan(env, p, {
        labels: options.labels ?? new Map(),
        resolveRemote,
        squash: options.squash,
        pull: pull === 'always',
        noCacheStages: new Set((options.noCacheStages ?? []).map((n) => n.toLowerCase())),
        annotations: options.annotations,
        labelPrefix: multi ? `${formatPlatform(normalizePlatform(p.platform))} ` : undefined,
        limiter,
        nextStepId,
        baseImages: triggered[plans.indexOf(p)].baseImages,
      }).catch((error: unknown) => {
        abort.abort(error);
        throw error;
      }),
    ),
  );
  if (downloads) await store.removeTempDir(await downloads).catch(() => undefined);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const images = settled.map((r) => (r as PromiseFulfilledResult<Image>).value);
  const image = images[0];
  trace('build: plan executed');
  // Between phases too: an interrupted build stores no image (each write below is atomic).
  const stopIfInterrupted = (): void => options.signal?.throwIfAborted();
  stopIfInterrupted();
  await statCache.save();
  let index: ImageIndex | undefined;
  if (multi) {
    for (const one of images) await store.putImageBlobs(one);
    index = ImageIndex.build(images, options.indexAnnotations);
    await store.writeIndex(index);
  } else await store.writeImage(image);
  stopIfInterrupted();
  for (const name of names) await store.tag(name, index ?? image);
  trace('build: image stored and tagged');
  stopIfInterrupted();
  await writeOutputs(store, image, names, options.outputs ?? [], options.registry ?? {}, index ? { index, images } : undefined);
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
  // As buildx: a multi-platform build's id is its index digest.
  if (options.iidfile) await fs.writeFile(options.iidfile, (index?.digest ?? image.configDigest).toString());
  if (options.metadataFile) {
    const metadata = {
      'containerimage.digest': (index?.digest ?? image.manifestDigest).toString(),
      ...(index ? {} : { 'containerimage.config.digest': image.configDigest.toString() }),
      'image.name': names.join(','),
    };
    await fs.writeFile(options.metadataFile, JSON.stringify(metadata, null, 2) + '\n');
  }
  return { image, names, ...(index ? { index, images } : {}) };
}

/**
 * The epoch SOURCE_DATE_EPOCH names: its seconds, or the time of a source stage's remote file
 * (its Last-Modified, else the newest regular file in it when it is an archive; BuildKit's rule).
 */
async function sourceDateEpoch(plan: BuildPlan, store: Store, emit: (e: BuildEvent) => void): Promise<number | undefined> {
  const source = plan.sourceDateEpoch;
  if (source.kind === 'none') return undefined;
  if (source.kind === 'seconds') return source.seconds;
  const dir = await store.tempDir('epoch');
  try {
    const download = await downloadUrl(source.url, dir, source.checksum);
    const seconds = download.lastModified ?? ((await isTarArchive(download.file)) ? await archiveMaxTime(download.file) : undefined);
    emit({ type: 'info', message: `SOURCE_DATE_EPOCH from stage ${source.stage} (${source.url}): ${seconds ?? 'none'}` });
    return seconds;
  } finally {
    await store.removeTempDir(dir);
  }
}

/**
 * The build checks of the stages this build builds (BuildKit reports those, `nbuild check` all),
 * with the build args, the context's .dockerignore and the Env of base images the store has.
 * `# check=error=true` turns a fired check into the build's error.
 */
async function runChecks(dockerfile: Dockerfile, plan: BuildPlan, store: Store, context: BuildContext, buildArgs: ReadonlyMap<string, string>, emit: (e: BuildEvent) => void): Promise<void> {
  const options: CheckOptions = { buildArgs, ignore: context.ignore, image: await localImageConfigs(store, dockerfile, buildArgs) };
  const built = new Set(plan.stages.map((s) => s.stage.index));
  const warnings = lint(dockerfile, dockerfile.ast, options).filter((w) => w.stage === undefined || built.has(w.stage));
  warnings.forEach((w) => emit(checkWarning(w)));
  const violation = lintViolation(dockerfile, dockerfile.ast, warnings, options);
  if (violation) throw violation;
}

/** The config (Env, Shell) of each base image the local store already has, for the checks. */
export async function localImageConfigs(store: Store, dockerfile: Dockerfile, buildArgs: ReadonlyMap<string, string>): Promise<CheckOptions['image']> {
  const configs = new Map<string, { Env?: string[] | null; Shell?: string[] | null }>();
  for (const ref of baseImageNames(dockerfile, buildArgs)) {
    const image = await store.getImage(ref).catch(() => undefined);
    if (image) configs.set(ref, image.config.config ?? {});
  }
  return (ref) => configs.get(ref);
}

function checkWarning(w: Warning): BuildEvent {
  return { type: 'warning', message: `${w.file}:${w.line}: ${w.message} [${w.rule}]`, check: w };
}

/**
 * The plan, with the ONBUILD triggers of the base images read first, as BuildKit does before
 * it decides which stages to build: a trigger may read a stage nothing else needs
 * (`ONBUILD COPY --from=NAME`). The images resolved on the way are handed to the executor.
 */
async function planWithTriggers(
  first: BuildPlan,
  options: PlanOptions,
  resolve: (ref: string, platform: BuildPlan['platform']) => Promise<Image>,
): Promise<{ plan: BuildPlan; baseImages: Map<string, Image> }> {
  const { dockerfile } = first;
  const baseImages = new Map<string, Image>();
  const imageTriggers = new Map<string, Instruction[]>();
  let plan = first;
  for (;;) {
    // Each base for its stage's platform (FROM --platform=$BUILDPLATFORM is the host's).
    const refs = new Map<string, BuildPlan['platform']>();
    for (const st of plan.stages) if (st.base.kind === 'image' && !baseImages.has(st.base.ref) && !refs.has(st.base.ref)) refs.set(st.base.ref, st.platform);
    if (refs.size === 0) return { plan, baseImages };
    await Promise.all(
      [...refs].map(async ([ref, platform]) => {
        const image = await resolve(ref, platform);
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
  return async (ref, platform) => {
    const { resolveBaseImage } = await import('./registry/index.js');
    try {
      return await resolveBaseImage(store, ref, { ...session, pull, platform });
    } catch (error) {
      // Transport errors name the host only; the user needs to know which FROM failed.
      if (error instanceof RegistryError && !error.message.includes(ref)) {
        throw new RegistryError(`pulling base image ${ref}: ${error.message}`, { status: error.status, codes: error.codes, temporary: error.temporary, cause: error });
      }
      throw error;
    }
  };
}

/** CONTEXT/Dockerfile, or CONTEXT/dockerfile when only that exists (as docker build). */
async function defaultDockerfile(contextDir: string): Promise<string> {
  const upper = path.join(contextDir, 'Dockerfile');
  const lower = path.join(contextDir, 'dockerfile');
  const exists = (f: string) => fs.access(f).then(() => true, () => false);
  return !(await exists(upper)) && (await exists(lower)) ? lower : upper;
}

async function readDockerfile(file: string, display: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NbuildError('DOCKERFILE_NOT_FOUND', code === 'ENOENT' ? `${display}: no such file` : `${display}: ${(error as Error).message}`, { cause: error });
  }
}
