// The programmatic API of `nbuild build`: options in, an image out.
// The CLI is a thin adapter over this; progress is a subscriber to events.
import * as fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseDockerfile, lint, lintViolation, baseImageNames, DockerfileParseError, type CheckOptions, type Dockerfile, type Warning, type Instruction } from './frontend/dockerfile/index.js';
import { epochArgInPlay, planBuild, type BuildPlan, type PlanOptions } from './planner/plan.js';
import { proxyEnv } from './planner/args.js';
import { isTarArchive, archiveMaxTime, UrlSources } from './executor/steps/add-sources.js';
import { attachFrame } from './frontend/dockerfile/frame.js';
import { checkRunSupport, executePlan, onbuildTriggers } from './executor/executor.js';
import { resolveBaseImage } from './executor/base-image.js';
import type { BuildEvent } from './executor/events.js';
import { baseImageKey, type BaseImages, type ImageResolver } from './executor/base-image.js';
import { BuildContext } from './context/context.js';
import { Store } from './store/store.js';
import type { Image, Layer } from './image/image.js';
import type { Compression } from './image/media-types.js';
import { parseReference } from './image/reference.js';
import { recompressImage } from './export/recompress.js';
import { checkMultiPlatformOutputs, writeOutputs, type OutputSpec } from './export/outputs.js';
import type { ImageIndex } from './image/image-index.js';
import { formatPlatform, hostPlatform, normalizePlatform, platformOf, type Platform } from './image/platform.js';
import { annotationsFor, type AnnotationSpec } from './image/annotations.js';
import { attestImages, checkAttestationOutputs, indexWithAttestations, type AttestContext, type AttestRequest } from './export/attestations/index.js';
import { provenancePredicate } from './export/attestations/provenance.js';
import { Limiter } from './limiter.js';
import type { IsolationMode } from './snapshot/ladder.js';
import type { StepEnv } from './executor/context.js';
import { DockerfileError, NbuildError, RegistryError } from './errors.js';
import { StatCache } from './cache/stat-cache.js';
import { exportCache, importCache, type CacheEntry, type CacheSpec } from './cache/export.js';
import { layerRef } from './cache/record.js';
import { trace } from './trace.js';
import { pullProgress, taskStarter, type TaskStarter, type TransferProgress } from './executor/transfer-progress.js';
import type { SecretSource } from './executor/context.js';
import type { SessionOptions } from './registry/session.js';
import { UsageError } from './errors.js';
import { isRemoteContext, type NamedContextSpec } from './context/named-contexts.js';
import { fetchNamedContext, fetchRemoteContext, type FetchedContext } from './context/remote-context.js';
import type { NamedContextBase } from './planner/plan.js';
import type { NamedSource } from './executor/context.js';
import { checkUlimitsAgainstOwn, type Ulimit } from './sandbox/ulimit.js';

export interface BuildOptions {
  storeRoot: string;
  /** The context: a folder, or a Git URL (`…repo.git#ref:subdir`) or an http(s) URL (a tar, or a Dockerfile). */
  contextDir: string;
  /** --build-context, by contextKey(NAME) (src/context/named-contexts.ts's parseBuildContexts). */
  buildContexts?: ReadonlyMap<string, NamedContextSpec>;
  /** Path of the Dockerfile; default CONTEXT/Dockerfile (in a Git or URL context: a path inside it). */
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
  /** How new layers are compressed; unset: gzip, or none while the image stays in the store (defersCompression). */
  compression?: Compression;
  compressionLevel?: number;
  /** force-compression=true: base layers in another compression are re-encoded to `compression` (buildx). */
  forceCompression?: boolean;
  /** RUN's network: 'default' (Docker's: a namespace of the step's own), 'host' or 'none'. */
  network?: 'default' | 'host' | 'none';
  /**
   * --timestamp: seconds since the epoch for every timestamp. Without it, the SOURCE_DATE_EPOCH
   * build arg (or the Dockerfile's global ARG default) gives the epoch, as in BuildKit.
   */
  timestamp?: number;
  secrets?: ReadonlyMap<string, SecretSource>;
  /** Build args the provenance leaves out (the proxy variables nbuild took from its environment or config.json). */
  unrecordedArgs?: ReadonlySet<string>;
  /** --ssh: id → SSH agent socket, for RUN --mount=type=ssh. */
  sshAgents?: ReadonlyMap<string, string>;
  /** --add-host NAME:IP, as `IP\tNAME` lines of RUN's /etc/hosts. */
  extraHosts?: readonly string[];
  /** --shm-size in bytes. */
  shmSize?: number;
  /** --isolation: how RUN steps are isolated (default: the best this host allows; see `nbuild info`). */
  isolation?: IsolationMode;
  /** --run-fsync: RUN steps' fsync & co. are real (default: they return 0, docs/decisions.md). */
  runFsync?: boolean;
  /** --ulimit: resource limits of RUN commands (src/sandbox/ulimit.ts parseUlimits). */
  ulimits?: readonly Ulimit[];
  /** --no-cache-filter: stage names whose steps all run. */
  noCacheStages?: readonly string[];
  /** --annotation: manifest annotations. */
  annotations?: Readonly<Record<string, string>>;
  /** --annotation index:K=V: annotations of a multi-platform build's index (refused for one platform). */
  indexAnnotations?: Readonly<Record<string, string>>;
  /**
   * --annotation as buildx spells it (`manifest[linux/amd64]:K=V`, `index:`, `manifest-descriptor:`,
   * `index-descriptor:`), added to `annotations` / `indexAnnotations`.
   */
  annotationSpecs?: readonly AnnotationSpec[];
  /** --attest / --provenance / --sbom: in-toto attestations beside each image (the result is an index). */
  attestations?: AttestRequest;
  /** Registry flags (--tls-verify, --authfile, --creds) for base-image pulls, pushes and registry caches. */
  registry?: SessionOptions;
  outputs?: OutputSpec[];
  iidfile?: string;
  metadataFile?: string;
  /**
   * The provenance buildx puts in the metadata file (`buildx.build.provenance`, per platform
   * `buildx.build.provenance/os/arch` for several): min (buildx's default, $BUILDX_METADATA_PROVENANCE), max, or false.
   */
  metadataProvenance?: 'min' | 'max' | false;
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
  const remote = isRemoteContext(options.contextDir) || [...(options.buildContexts?.values() ?? [])].some((c) => c.kind === 'remote');
  if (!remote) return buildLocal(options, { named: new Map() });
  // Git and URL contexts are fetched into the store's temp area, and removed after the build.
  const store = await Store.open(options.storeRoot);
  const fetched: string[] = [];
  const times: ContextTimes = { named: new Map() };
  try {
    return await buildLocal(await fetchContexts(store, options, fetched, times), times);
  } finally {
    for (const dir of fetched) await store.removeTempDir(dir).catch(() => undefined);
  }
}

/** The times of fetched contexts, for SOURCE_DATE_EPOCH=context or =NAME (BuildKit). */
interface ContextTimes {
  context?: number;
  named: Map<string, number>;
}

/**
 * The options with every Git or URL context replaced by the folder it was fetched into (listed
 * in `fetched`); their times go to `times`.
 */
async function fetchContexts(store: Store, options: BuildOptions, fetched: string[], times: ContextTimes): Promise<BuildOptions> {
  const workDir = async (): Promise<string> => {
    const dir = await store.tempDir('context');
    fetched.push(dir);
    return dir;
  };
  const fetchOne = async (url: string): Promise<FetchedContext> => {
    const started = Date.now();
    const got = await fetchRemoteContext(url, await workDir(), store, options.signal);
    options.onEvent?.({ type: 'info', message: `context ${url} fetched in ${((Date.now() - started) / 1000).toFixed(1)}s` });
    return got;
  };
  const out: BuildOptions = { ...options };
  if (isRemoteContext(options.contextDir)) {
    const url = options.contextDir;
    const got = await fetchOne(url);
    out.contextDir = got.dir;
    times.context = got.epoch;
    if (got.dockerfileText !== undefined && options.dockerfileText === undefined) {
      // The URL's file is the Dockerfile whatever -f names (BuildKit's testHTTPDockerfile).
      out.dockerfile = undefined;
      out.dockerfileText = got.dockerfileText;
    } else if (options.dockerfile !== undefined && options.dockerfileText === undefined) {
      // As docker build: -f with a remote context is a path inside it.
      const file = path.resolve(got.dir, options.dockerfile);
      if (!file.startsWith(got.dir + path.sep)) throw new UsageError(`-f ${options.dockerfile}: with the context ${url}, -f names a file inside it`);
      out.dockerfile = file;
    }
  }
  if (options.buildContexts) {
    const named = new Map<string, NamedContextSpec>();
    for (const [key, spec] of options.buildContexts) {
      if (spec.kind !== 'remote') named.set(key, spec);
      else {
        const started = Date.now();
        const got = await fetchNamedContext(spec.url, await workDir(), store, options.signal);
        named.set(key, { kind: 'local', dir: got.dir });
        if (got.epoch !== undefined) times.named.set(key, got.epoch);
        options.onEvent?.({ type: 'info', message: `context ${key} (${spec.url}) fetched in ${((Date.now() - started) / 1000).toFixed(1)}s` });
      }
    }
    out.buildContexts = named;
  }
  return out;
}

async function buildLocal(options: BuildOptions, times: ContextTimes): Promise<BuildResult> {
  trace('build: start');
  const started = Date.now();
  // The summary's cache hits: every step that finished, and those that were CACHED.
  const tally = { steps: 0, cached: 0 };
  const listener = options.onEvent;
  if (listener) {
    options = {
      ...options,
      onEvent: (e) => {
        if (e.type === 'step-done') {
          tally.steps++;
          if (e.cached) tally.cached++;
        }
        listener(e);
      },
    };
  }
  const result = await buildFile(options, times);
  listener?.({ type: 'build-done', seconds: (Date.now() - started) / 1000, imageId: (result.index?.digest ?? result.image.configDigest).toString(), size: compressedSize(result), ...tally });
  return result;
}

/** The compressed size of the image's layers (of every platform's image, each layer once). */
function compressedSize(result: BuildResult): number {
  const layers = new Map<string, number>();
  for (const image of result.images ?? [result.image]) for (const l of image.layers) layers.set(l.digest.toString(), l.size);
  return [...layers.values()].reduce((a, b) => a + b, 0);
}

async function buildFile(options: BuildOptions, times: ContextTimes): Promise<BuildResult> {
  const startedOn = new Date();
  if (options.ulimits?.length) checkUlimitsAgainstOwn(options.ulimits);
  const dockerfilePath = path.resolve(options.dockerfile ?? defaultDockerfile(options.contextDir));
  const displayName = options.dockerfileText !== undefined ? 'Dockerfile' : path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
  const text = options.dockerfileText ?? (await readDockerfile(dockerfilePath, displayName));
  try {
    return await buildDockerfile(options, text, displayName, dockerfilePath, startedOn, times);
  } catch (error) {
    // An error at a line of this Dockerfile shows those lines under it (buildx does too).
    throw attachFrame(error, displayName, text);
  }
}

async function buildDockerfile(options: BuildOptions, text: string, displayName: string, dockerfilePath: string, startedOn: Date, times: ContextTimes): Promise<BuildResult> {
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
  if (options.attestations) checkAttestationOutputs(options.outputs ?? []);
  // An index is written for two or more platforms, or to hold attestations (as BuildKit).
  const specs = options.annotationSpecs ?? [];
  if (!multi && !options.attestations) {
    const target = options.indexAnnotations ? 'index' : (['index', 'manifest-descriptor', 'index-descriptor'] as const).find((t) => annotationsFor(specs, t));
    if (target) throw new UsageError(`--annotation ${target}:…: a one-platform build writes no index (give two or more --platform, or an attestation)`);
  }
  const planOptions = { buildArgs: options.buildArgs, target: options.target, namedContexts: contextBases(options.buildContexts) };
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
    const timestamp = options.timestamp ?? (await sourceDateEpoch(plan, store, emit, times));
    // The epoch as resolved is the value an `ARG SOURCE_DATE_EPOCH` sees (BuildKit's rule).
    const resolvedSourceDateEpoch = timestamp === undefined ? null : String(timestamp);
    if (epochArgInPlay(dockerfile, options.buildArgs)) plans = platforms.map((platform) => planBuild(dockerfile, { ...planOptions, platform, resolvedSourceDateEpoch }));
    return await buildIn(store, options, { dockerfilePath, dockerfile, text, names, plans, emit, timestamp, startedOn });
  } finally {
    await store.releaseLease();
  }
}

/** What build() knows before it opens the store. */
interface Parsed {
  dockerfilePath: string;
  dockerfile: ReturnType<typeof parseDockerfile>;
  /** The Dockerfile's text (max-mode provenance carries it). */
  text: string;
  names: string[];
  /** One plan per target platform (a multi-platform build has two or more). */
  plans: ReturnType<typeof planBuild>[];
  emit: (event: BuildEvent) => void;
  /** --timestamp, or the epoch SOURCE_DATE_EPOCH names. */
  timestamp: number | undefined;
  startedOn: Date;
}

async function buildIn(store: Store, options: BuildOptions, parsed: Parsed): Promise<BuildResult> {
  const { dockerfilePath, dockerfile, names, plans: firstPlans, emit, timestamp } = parsed;
  const pull: PullPolicy = options.pull === true ? 'always' : options.pull === false || options.pull === undefined ? 'missing' : options.pull;
  // Steps and the long tasks around them (pulls, pushes, caches, archives) share one numbering.
  let stepId = 0;
  const nextStepId = (): number => ++stepId;
  const tasks = taskStarter(emit, nextStepId);
  const registry: SessionOptions = { ...options.registry, signal: options.signal };
  const resolveRemote = pull === 'never' ? undefined : (options.resolveRemote ?? registryResolver(store, pull === 'always', registry, tasks));
  // Each platform's plan with its base images' ONBUILD triggers read first (they may need more stages).
  const resolvedSourceDateEpoch = timestamp === undefined ? null : String(timestamp);
  const triggered = await Promise.all(
    firstPlans.map((p) =>
      planWithTriggers(p, { buildArgs: options.buildArgs, target: options.target, platform: p.platform, resolvedSourceDateEpoch, namedContexts: contextBases(options.buildContexts) }, (ref, platform) =>
        resolveBaseImage(store, ref, resolveRemote, pull === 'always', platform),
      ),
    ),
  );
  const plans = triggered.map((t) => t.plan);
  const plan = plans[0];
  const multi = plans.length > 1;
  const context = await BuildContext.open(options.contextDir, options.dockerfileText !== undefined ? undefined : dockerfilePath);
  await runChecks(dockerfile, plan, store, context, options.buildArgs ?? new Map(), emit);
  await importCaches(store, options.cacheFrom ?? [], emit, tasks, registry);
  const statCache = StatCache.ofStore(store);
  const used: CacheEntry[] = [];
  trace('build: context and stat cache ready');
  let downloads: Promise<string> | undefined;
  const urls = new UrlSources(store, () => (downloads ??= store.tempDir('add-urls')));
  const deferred = defersCompression(options, multi);
  const env: StepEnv = {
    store,
    context,
    namedContexts: await namedSources(options.buildContexts),
    compression: deferred ? 'none' : (options.compression ?? 'gzip'),
    deferredCompression: deferred ? 'gzip' : undefined,
    compressionLevel: options.compressionLevel,
    timestamp,
    network: options.network ?? 'default',
    proxyEnv: proxyEnv(plan.buildArgs),
    noCache: options.noCache ?? false,
    emptiedCacheMounts: new Map(),
    statCache,
    secrets: options.secrets ?? new Map(),
    sshAgents: options.sshAgents,
    extraHosts: options.extraHosts,
    shmSize: options.shmSize,
    isolation: options.isolation,
    runFsync: options.runFsync ?? false,
    ulimits: options.ulimits,
    emit,
    signal: options.signal,
    urls,
    cacheUsed: (key, record, stage) => used.push({ key, record, stage }),
  };
  // The platforms build side by side, their stages bounded together (a stage is most of a core).
  const limiter = new Limiter(2);
  // One failing platform stops the others.
  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(options.signal?.reason), { once: true });
  env.signal = abort.signal;
  // A RUN no platform can run is refused before any platform starts.
  const emulators = await Promise.all(plans.map((p) => checkRunSupport(p)));
  const settled = await Promise.allSettled(
    plans.map((p) =>
      executePlan(env, p, {
        labels: options.labels ?? new Map(),
        resolveRemote,
        squash: options.squash,
        pull: pull === 'always',
        noCacheStages: new Set((options.noCacheStages ?? []).map((n) => n.toLowerCase())),
        annotations: mergeAnnotations(options.annotations, annotationsFor(options.annotationSpecs ?? [], 'manifest', p.platform)),
        labelPrefix: multi ? `${formatPlatform(normalizePlatform(p.platform))} ` : undefined,
        limiter,
        nextStepId,
        baseImages: triggered[plans.indexOf(p)].baseImages,
        emulators: emulators[plans.indexOf(p)],
      }).catch((error: unknown) => {
        abort.abort(error);
        throw error;
      }),
    ),
  );
  if (downloads) await store.removeTempDir(await downloads).catch(() => undefined);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const built = settled.map((r) => (r as PromiseFulfilledResult<Image>).value);
  const images = deferred ? built : await tasks('compressing the layers kept uncompressed in the store').run((progress) => compressLeaving(store, built, used, options, progress));
  const image = images[0];
  trace('build: plan executed');
  // Between phases too: an interrupted build stores no image (each write below is atomic).
  const stopIfInterrupted = (): void => options.signal?.throwIfAborted();
  stopIfInterrupted();
  // Only a cache: when it cannot be written (a full disk, a folder in its way) the build still
  // stands, and the next one hashes those files again.
  await statCache.save().catch((error: unknown) => emit({ type: 'warning', message: `the context stat cache was not saved (${(error as Error).message}); the next build hashes its files again` }));
  const provenanceFacts = provenanceFactsOf(options, parsed, images, triggered.map((t) => t.baseImages));
  let index: ImageIndex | undefined;
  let attestations: Image[] = [];
  if (multi || options.attestations) {
    for (const one of images) await store.putImageBlobs(one);
    const attested = options.attestations ? await attestImages(store, images, attestContext(options, parsed, provenanceFacts)) : new Map<Image, Image>();
    attestations = [...attested.values()];
    const specs = options.annotationSpecs ?? [];
    index = indexWithAttestations(images, attested, {
      index: mergeAnnotations(options.indexAnnotations, annotationsFor(specs, 'index')),
      manifestDescriptor: (one) => annotationsFor(specs, 'manifest-descriptor', platformOf(one.config)),
    });
    await store.writeIndex(index, names);
  } else await store.writeImage(image, names);
  trace('build: image stored and tagged');
  stopIfInterrupted();
  const indexDescriptor = annotationsFor(options.annotationSpecs ?? [], 'index-descriptor');
  await writeOutputs(store, image, names, options.outputs ?? [], registry, index ? { index, images, attestations, indexDescriptor } : undefined, tasks);
  trace('build: outputs written');
  stopIfInterrupted();
  for (const spec of options.cacheTo ?? []) {
    try {
      await tasks(`exporting cache to ${spec.type === 'local' ? spec.dir : spec.ref}`).run((progress) => exportCache(store, used, spec, plan.target, { progress, session: registry }));
    } catch (error) {
      if (!spec.ignoreError || options.signal?.aborted) throw error;
      emit({ type: 'warning', message: `cache to ${spec.type === 'local' ? spec.dir : spec.ref} not written (ignore-error=true): ${(error as Error).message}` });
    }
  }
  // As buildx: a multi-platform build's id is its index digest.
  if (options.iidfile) await fs.writeFile(options.iidfile, (index?.digest ?? image.configDigest).toString());
  if (options.metadataFile) {
    const metadata = {
      'containerimage.descriptor': index ? index.descriptor() : image.descriptor(),
      'containerimage.digest': (index?.digest ?? image.manifestDigest).toString(),
      ...(index ? {} : { 'containerimage.config.digest': image.configDigest.toString() }),
      'image.name': names.join(','),
      ...metadataProvenance(options.metadataProvenance ?? 'min', images, provenanceFacts),
    };
    await fs.writeFile(options.metadataFile, JSON.stringify(metadata, null, 2) + '\n');
  }
  return { image, names, ...(index ? { index, images } : {}) };
}

/**
 * A build whose image stays on this machine (no output that writes blobs but `--load`'s archive,
 * no push, no cache export, one platform, no attestations, no compression asked for) keeps its new
 * layers uncompressed, as Docker's image store does: compressing is most of a commit's cost, and is
 * paid only when the image leaves the store (docs/decisions.md, "Layers compressed when they
 * leave the store").
 */
function defersCompression(options: BuildOptions, multi: boolean): boolean {
  if (options.compression !== undefined || options.compressionLevel !== undefined || options.forceCompression) return false;
  if (multi || options.attestations || options.cacheTo?.length) return false;
  return (options.outputs ?? []).every((o) => o.type === 'local' || o.type === 'tar' || (o.type === 'registry' && !o.push) || (o.type === 'docker' && o.load === true));
}

/**
 * The images of a build that exports, in its compression: the uncompressed layers it reused (from
 * the cache of builds that kept them so, or a base built so) are compressed, every layer with
 * force-compression. A cache record whose layer was compressed names the compressed one from now
 * on, so the next export does not compress it again.
 */
async function compressLeaving(store: Store, built: Image[], used: CacheEntry[], options: BuildOptions, progress: TransferProgress): Promise<Image[]> {
  const converted = new Map<string, Layer>();
  const which = options.forceCompression ? 'all' : 'uncompressed';
  const images = await Promise.all(built.map((one) => recompressImage(store, one, options.compression ?? 'gzip', { level: options.compressionLevel, which, converted, progress })));
  for (const entry of used) {
    const made = entry.record.layer && converted.get(entry.record.layer.digest);
    if (!made) continue;
    entry.record = { ...entry.record, layer: layerRef(made) };
    await store.cachePut(entry.key, entry.record);
  }
  return images;
}

/** What the planner needs of --build-context: which names are images, scratch or folders. */
function contextBases(specs: ReadonlyMap<string, NamedContextSpec> | undefined): Map<string, NamedContextBase> | undefined {
  if (!specs?.size) return undefined;
  return new Map([...specs].map(([key, spec]) => [key, spec.kind === 'image' || spec.kind === 'scratch' ? spec : { kind: 'local' }]));
}

/** What the steps read of --build-context: a folder opened as a context with its own .dockerignore. */
async function namedSources(specs: ReadonlyMap<string, NamedContextSpec> | undefined): Promise<Map<string, NamedSource> | undefined> {
  if (!specs?.size) return undefined;
  const out = new Map<string, NamedSource>();
  for (const [key, spec] of specs) {
    if (spec.kind === 'image' || spec.kind === 'scratch') out.set(key, spec);
    else if (spec.kind === 'local') {
      const st = await fs.stat(spec.dir).catch(() => undefined);
      if (!st?.isDirectory()) throw new NbuildError('CONTEXT_NOT_FOUND', `--build-context ${key}=${spec.dir}: not a folder`);
      out.set(key, { kind: 'local', context: await BuildContext.open(spec.dir, '-') });
    } else throw new NbuildError('CONTEXT_INVALID', `--build-context ${key}=${spec.url}: not fetched`);
  }
  return out;
}

function mergeAnnotations(a?: Readonly<Record<string, string>>, b?: Readonly<Record<string, string>>): Record<string, string> | undefined {
  return a || b ? { ...a, ...b } : undefined;
}

type ProvenanceFacts = AttestContext['provenance'];

/** What the attestations of this build say. */
function attestContext(options: BuildOptions, parsed: Parsed, provenance: ProvenanceFacts): AttestContext {
  return {
    request: options.attestations as AttestRequest,
    names: parsed.names,
    timestamp: parsed.timestamp,
    warn: (message) => parsed.emit({ type: 'warning', message }),
    provenance,
  };
}

/** buildx's `buildx.build.provenance` metadata: the provenance predicate of each platform's image. */
function metadataProvenance(mode: 'min' | 'max' | false, images: readonly Image[], facts: ProvenanceFacts): Record<string, unknown> {
  if (!mode) return {};
  const predicate = (image: Image) => provenancePredicate({ ...facts(image), request: { mode, reproducible: false }, finishedOn: new Date() });
  if (images.length === 1) return { 'buildx.build.provenance': predicate(images[0]) };
  return Object.fromEntries(images.map((one) => [`buildx.build.provenance/${formatPlatform(normalizePlatform(platformOf(one.config)))}`, predicate(one)]));
}

/** The provenance parameters and materials of each image of this build. */
function provenanceFactsOf(options: BuildOptions, parsed: Parsed, images: readonly Image[], baseImages: readonly BaseImages[]): ProvenanceFacts {
  return (image) => ({
    dockerfileName: options.dockerfileText !== undefined ? 'Dockerfile' : path.basename(parsed.dockerfilePath),
    dockerfileText: parsed.text,
    buildArgs: new Map([...(options.buildArgs ?? [])].filter(([k]) => !options.unrecordedArgs?.has(k))),
    labels: options.labels ?? new Map(),
    target: options.target,
    secretIds: [...(options.secrets?.keys() ?? [])],
    noCache: options.noCache ?? false,
    network: options.network ?? 'default',
    extraHosts: options.extraHosts ?? [],
    shmSize: options.shmSize,
    materials: [...(baseImages[images.indexOf(image)]?.values() ?? [])].map(({ ref, image: base }) => ({
      ref,
      platform: formatPlatform(normalizePlatform(platformOf(base.config))),
      digest: base.manifestDigest.toString(),
    })),
    builderPlatform: formatPlatform(normalizePlatform(hostPlatform())),
    startedOn: parsed.startedOn,
  });
}

/**
 * The epoch SOURCE_DATE_EPOCH names: its seconds, the time of the (Git or HTTP) context or of a
 * named context, or the time of a source stage's remote file (its Last-Modified, else the newest
 * regular file in it when it is an archive; BuildKit's rule). A folder context has no time.
 */
async function sourceDateEpoch(plan: BuildPlan, store: Store, emit: (e: BuildEvent) => void, times: ContextTimes): Promise<number | undefined> {
  const source = plan.sourceDateEpoch;
  if (source.kind === 'none') return undefined;
  if (source.kind === 'seconds') return source.seconds;
  if (source.kind === 'context') return times.context;
  if (source.kind === 'named') return times.named.get(source.key);
  const dir = await store.tempDir('epoch');
  try {
    const download = await new UrlSources(store, async () => dir).file(source.url, source.checksum);
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
): Promise<{ plan: BuildPlan; baseImages: BaseImages }> {
  const { dockerfile } = first;
  const baseImages = new Map<string, { ref: string; image: Image }>();
  const imageTriggers = new Map<string, Instruction[]>();
  let plan = first;
  for (;;) {
    // Each base for its stage's platform (FROM --platform=$BUILDPLATFORM is the host's).
    const wanted = new Map<string, { ref: string; platform: BuildPlan['platform'] }>();
    for (const st of plan.stages) {
      if (st.base.kind !== 'image') continue;
      const key = baseImageKey(st.base.ref, st.platform);
      if (!baseImages.has(key)) wanted.set(key, { ref: st.base.ref, platform: st.platform });
    }
    if (wanted.size === 0) return { plan, baseImages };
    const resolved = await Promise.all([...wanted].map(async ([key, { ref, platform }]) => ({ key, ref, image: await resolve(ref, platform) })));
    let triggered = false;
    for (const { key, ref, image } of resolved) {
      baseImages.set(key, { ref, image });
      // The planner takes triggers by reference: those of the first stage built FROM it.
      if (!imageTriggers.has(ref)) {
        const triggers = onbuildTriggers(image.config.config?.OnBuild ?? [], dockerfile.file, ref);
        imageTriggers.set(ref, triggers);
        triggered ||= triggers.length > 0;
      }
    }
    // Without ONBUILD triggers the plan stands: planning again would give the same one.
    if (!triggered) return { plan, baseImages };
    plan = planBuild(dockerfile, { ...options, imageTriggers });
  }
}

/** A cache that is missing or unreadable only costs time: warn and build without it (as BuildKit). */
async function importCaches(store: Store, specs: CacheSpec[], emit: (e: BuildEvent) => void, tasks: TaskStarter, session: SessionOptions): Promise<void> {
  for (const spec of specs) {
    const where = spec.type === 'local' ? spec.dir : spec.ref;
    try {
      const n = await tasks(`importing cache from ${where}`).run((progress) => importCache(store, spec, { progress, session }));
      emit({ type: 'info', message: `imported ${n} cache record(s) from ${where}` });
    } catch (error) {
      // Interrupted (SIGINT/SIGTERM): the build stops, it does not go on without the cache.
      if (session.signal?.aborted) throw error;
      emit({ type: 'warning', message: `cache from ${where} not used: ${(error as Error).message}` });
    }
  }
}

/** Base images the store lacks come from their registry (loaded on first use). */
function registryResolver(store: Store, pull: boolean, session: SessionOptions, tasks: TaskStarter): ImageResolver {
  return async (ref, platform) => {
    const { resolveBaseImage } = await import('./registry/index.js');
    // Shown only when blobs are looked at: a base image the store has makes no line.
    const task = tasks(`pulling ${ref}`);
    try {
      return await task.run(() => resolveBaseImage(store, ref, { ...session, pull, platform, onProgress: pullProgress(task) }));
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
// Checked on this thread, as the Dockerfile is read (readDockerfile): a no-op build then loads
// no node:fs/promises.
function defaultDockerfile(contextDir: string): string {
  const upper = path.join(contextDir, 'Dockerfile');
  const lower = path.join(contextDir, 'dockerfile');
  return !existsSync(upper) && existsSync(lower) ? lower : upper;
}

async function readDockerfile(file: string, display: string): Promise<string> {
  try {
    // One read on this thread: through the thread pool it was four round trips (open, fstat,
    // read, close), each ~0.3 ms of waiting on this VM.
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NbuildError('DOCKERFILE_NOT_FOUND', code === 'ENOENT' ? `${display}: no such file` : `${display}: ${(error as Error).message}`, { cause: error });
  }
}
