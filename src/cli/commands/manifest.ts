// `nbuild manifest create|add|annotate|inspect|rm|push`: multi-platform indexes put together by
// hand from stored images, as `buildah manifest` and `docker manifest` do. An index is a store
// image like any other (tag, rmi, save, push know it); each change makes a new index (a new
// digest) and moves the name to it.
import type { Argv, CommandModule } from 'yargs';
import { NbuildError, UsageError } from '../../errors.js';
import { resolveStoreRoot } from '../global-options.js';
import { registryOptions, sessionOptions, type RegistryArgs } from '../registry-options.js';
import type { Store } from '../../store/store.js';
import type { ImageIndex } from '../../image/image-index.js';
import type { Descriptor } from '../../image/types.js';
import type { NbuildCommand } from '../command.js';

interface ManifestArgs extends RegistryArgs {
  root?: string;
  name: string;
  images?: string[];
  image?: string;
  digest?: string;
  dest?: string;
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
  annotation: string[];
  all: boolean;
  quiet: boolean;
}

const modules = async () => {
  const [{ Store }, { ImageIndex }, { Image }, platform, { parseReference }, { Digest }] = await Promise.all([
    import('../../store/store.js'), import('../../image/image-index.js'), import('../../image/image.js'), import('../../image/platform.js'),
    import('../../image/reference.js'), import('../../image/digest.js'),
  ]);
  return { Store, ImageIndex, Image, platform, parseReference, Digest };
};

async function openStore(args: ManifestArgs): Promise<Store> {
  const { Store } = await import('../../store/store.js');
  return Store.open(resolveStoreRoot(args.root));
}

/** The index NAME names; a clear error when it names nothing or a single image. */
async function indexNamed(store: Store, name: string): Promise<ImageIndex> {
  const found = await store.getImageOrIndex(name);
  if (!found) throw new NbuildError('IMAGE_UNKNOWN', `no manifest list ${name} in the local store (nbuild manifest create ${name})`);
  const { ImageIndex } = await import('../../image/image-index.js');
  if (!(found instanceof ImageIndex)) throw new UsageError(`${name} is a single image, not a manifest list`);
  return found;
}

/** Stores `index` and points `name` at it; the index it replaces goes when nothing else names it. */
async function saveAs(store: Store, name: string, index: ImageIndex): Promise<void> {
  const { parseReference } = await import('../../image/reference.js');
  const key = parseReference(name).toString();
  await store.writeIndex(index);
  await store.updateRefs((refs) => {
    const old = refs.names[key];
    refs.names[key] = index.digest.toString();
    if (old && old !== refs.names[key] && !Object.values(refs.names).includes(old)) delete refs.images[old];
  });
  process.stdout.write(`${index.digest}\n`);
}

function keyValues(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--annotation ${v}: expected KEY=VALUE`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The descriptors an IMAGE argument adds: a stored image, or the entries of a stored index (one platform with --platform). */
async function entriesOf(store: Store, arg: string, args: ManifestArgs): Promise<Descriptor[]> {
  const { ImageIndex, platform } = await modules();
  const found = await store.getImageOrIndex(arg);
  if (!found) throw new NbuildError('IMAGE_UNKNOWN', `no image ${arg} in the local store (nbuild pull ${arg}, or nbuild load)`);
  const want = wantedPlatform(args, platform.parsePlatform);
  if (found instanceof ImageIndex) {
    if (want) return [found.select(want, arg)];
    if (!args.all) throw new UsageError(`${arg} is a manifest list (${found.platforms().join(', ')}): add one with --platform, or all with --all`);
    return found.manifests;
  }
  const d: Descriptor = { ...found.descriptor(), platform: platform.platformOf(found.config) };
  if (want) {
    if (!platform.platformMatches(want, found.config)) throw new UsageError(`${arg} is a ${platform.formatPlatform(found.config)} image, not ${platform.formatPlatform(want)}`);
  }
  return [d];
}

function wantedPlatform(args: ManifestArgs, parse: (t: string) => import('../../image/platform.js').Platform | undefined): import('../../image/platform.js').Platform | undefined {
  if (!args.platform) return undefined;
  const p = parse(args.platform);
  if (!p) throw new UsageError(`--platform ${args.platform}: not a platform (use os/arch[/variant])`);
  return p;
}

const platformFlags = (y: Argv): Argv =>
  y
    .option('os', { type: 'string', describe: 'set the entry\'s os' })
    .option('arch', { type: 'string', describe: 'set the entry\'s architecture' })
    .option('variant', { type: 'string', describe: 'set the entry\'s variant' })
    .option('annotation', { type: 'string', array: true, default: [], describe: 'KEY=VALUE on the entry' });

/** --os/--arch/--variant/--annotation applied to an entry (the manifest itself is not changed). */
function annotateEntry(d: Descriptor, args: ManifestArgs): Descriptor {
  const out: Descriptor = { ...d };
  if (args.os || args.arch || args.variant) {
    const p = { ...(d.platform ?? { os: '', architecture: '' }) };
    if (args.os) p.os = args.os;
    if (args.arch) p.architecture = args.arch;
    if (args.variant) p.variant = args.variant;
    out.platform = p;
  }
  const ann = keyValues(args.annotation ?? []);
  if (Object.keys(ann).length) out.annotations = { ...(d.annotations ?? {}), ...ann };
  return out;
}

const create: CommandModule<object, ManifestArgs> = {
  command: 'create <name> [images..]',
  describe: 'create a manifest list NAME from stored images (indexes add all their entries)',
  builder: (y: Argv) =>
    y.positional('name', { type: 'string', demandOption: true }).positional('images', { type: 'string', array: true, default: [] })
      .option('annotation', { type: 'string', array: true, default: [], describe: 'KEY=VALUE on the index' })
      .option('all', { type: 'boolean', default: true, hidden: true }) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    const { ImageIndex, parseReference } = await modules();
    const store = await openStore(args);
    const key = parseReference(args.name).toString();
    if ((await store.readRefs()).names[key]) throw new UsageError(`${args.name} already names an image; nbuild manifest rm ${args.name} first, or use manifest add`);
    const entries: Descriptor[] = [];
    for (const arg of args.images ?? []) for (const d of await entriesOf(store, arg, args)) addEntry(entries, d);
    await saveAs(store, args.name, ImageIndex.fromDescriptors(entries, keyValues(args.annotation)));
  },
};

/** One entry per manifest digest, and per platform: a new image for a platform replaces the old one. */
function addEntry(entries: Descriptor[], d: Descriptor): void {
  const same = (e: Descriptor): boolean =>
    e.digest === d.digest || (!!e.platform && !!d.platform && e.platform.os === d.platform.os && e.platform.architecture === d.platform.architecture && (e.platform.variant ?? '') === (d.platform.variant ?? ''));
  const at = entries.findIndex(same);
  if (at >= 0) entries.splice(at, 1, d);
  else entries.push(d);
  for (let i = entries.length - 1; i >= 0; i--) if (i !== entries.indexOf(d) && same(entries[i])) entries.splice(i, 1);
}

const add: CommandModule<object, ManifestArgs> = {
  command: 'add <name> <image>',
  describe: 'add a stored image to manifest list NAME (replaces the entry of the same platform)',
  builder: (y: Argv) =>
    platformFlags(y.positional('name', { type: 'string', demandOption: true }).positional('image', { type: 'string', demandOption: true }))
      .option('platform', { type: 'string', describe: 'take this platform out of a multi-platform IMAGE' })
      .option('all', { type: 'boolean', default: false, describe: 'add every entry of a multi-platform IMAGE' }) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    const { ImageIndex } = await modules();
    const store = await openStore(args);
    const index = await indexNamed(store, args.name);
    const entries = [...index.index.manifests];
    for (const d of await entriesOf(store, args.image as string, args)) addEntry(entries, annotateEntry(d, args));
    await saveAs(store, args.name, ImageIndex.fromDescriptors(entries, index.index.annotations));
  },
};

const annotate: CommandModule<object, ManifestArgs> = {
  command: 'annotate <name> <digest>',
  describe: "set an entry's platform fields or annotations (the entry named by its manifest digest, or a stored image)",
  builder: (y: Argv) =>
    platformFlags(y.positional('name', { type: 'string', demandOption: true }).positional('digest', { type: 'string', demandOption: true })) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    const { ImageIndex, Digest } = await modules();
    const store = await openStore(args);
    const index = await indexNamed(store, args.name);
    const arg = args.digest as string;
    const digest = Digest.isValid(arg) ? arg : (await store.getImageOrIndex(arg))?.manifestDigest.toString();
    const at = index.index.manifests.findIndex((d) => d.digest === digest);
    if (at < 0) throw new UsageError(`${arg} is not an entry of ${args.name} (${index.index.manifests.map((d) => d.digest).join(', ') || 'it is empty'})`);
    if (!args.os && !args.arch && !args.variant && (args.annotation ?? []).length === 0) throw new UsageError('manifest annotate: nothing to set (--os, --arch, --variant, --annotation)');
    const entries = index.index.manifests.map((d, i) => (i === at ? annotateEntry(d, args) : d));
    await saveAs(store, args.name, ImageIndex.fromDescriptors(entries, index.index.annotations));
  },
};

const inspect: CommandModule<object, ManifestArgs> = {
  command: 'inspect <name>',
  describe: 'print the manifest list as JSON',
  builder: (y: Argv) => y.positional('name', { type: 'string', demandOption: true }) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    const store = await openStore(args);
    process.stdout.write(`${JSON.stringify((await indexNamed(store, args.name)).index, null, 4)}\n`);
  },
};

const rm: CommandModule<object, ManifestArgs> = {
  command: 'rm <name>',
  describe: 'remove the manifest list NAME (its images stay while something else uses them)',
  builder: (y: Argv) => y.positional('name', { type: 'string', demandOption: true }) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    const store = await openStore(args);
    await indexNamed(store, args.name);
    const { removeImages } = await import('../../store/gc.js');
    const { lines } = await removeImages(store, [args.name], false);
    for (const l of lines) process.stdout.write(`${l}\n`);
  },
};

const push: CommandModule<object, ManifestArgs> = {
  command: 'push <name> [dest]',
  describe: 'push the manifest list and all its images (DEST defaults to NAME)',
  builder: (y: Argv) =>
    y.positional('name', { type: 'string', demandOption: true }).positional('dest', { type: 'string' })
      .options(registryOptions)
      .option('all', { type: 'boolean', default: true, describe: 'push the images too (always: --all=false is refused)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false }) as unknown as Argv<ManifestArgs>,
  handler: async (args) => {
    if (!args.all) throw new UsageError('manifest push --all=false: not supported; nbuild pushes the images with the list (a registry refuses a list whose images it lacks)');
    const store = await openStore(args);
    const index = await indexNamed(store, args.name);
    const images = await store.entryImages(index.digest);
    if (images.length !== index.manifests.length) throw new NbuildError('BLOB_UNKNOWN', `${args.name}: only ${images.length} of its ${index.manifests.length} images are in the local store`);
    const [{ pushIndex }, { compressIndexForPush }] = await Promise.all([import('../../registry/push.js'), import('../../export/recompress.js')]);
    const pushed = await compressIndexForPush(store, index, images);
    const { digest } = await pushIndex(store, pushed.index, pushed.images, args.dest ?? args.name, {
      ...sessionOptions(args),
      onProgress: (e) => {
        if (!args.quiet && e.kind === 'manifest') process.stderr.write(`pushed ${e.reference}\n`);
      },
    });
    process.stdout.write(`${digest}\n`);
  },
};

export const manifestCommand: NbuildCommand<object> = {
  userns: false,
  command: 'manifest <command>',
  describe: 'create, change, inspect, remove and push manifest lists (OCI image indexes)',
  builder: (y: Argv) => {
    for (const c of [create, add, annotate, inspect, rm, push]) y = y.command(c as unknown as CommandModule<object, object>);
    return y.demandCommand(1);
  },
  handler: () => undefined,
};
