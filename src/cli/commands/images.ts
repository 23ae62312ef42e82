// `nbuild images`: list the images of the store, docker style.
import type { Argv, CommandModule } from 'yargs';
import { formatPlatform } from '../../image/platform.js';
import { UsageError } from '../../errors.js';
import type { ImageListEntry } from '../../store/store.js';
import { resolveStoreRoot } from '../global-options.js';

interface ImagesArgs {
  all: boolean;
  quiet: boolean;
  digests: boolean;
  'no-trunc': boolean;
  filter: string[];
  format?: string;
  json: boolean;
  root?: string;
}

interface Row {
  Repository: string;
  Tag: string;
  Digest: string;
  Platforms: string;
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  Size: string;
  Labels: Record<string, string>;
}

const HEADERS: Record<string, string> = { Platforms: 'PLATFORMS', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', ID: 'IMAGE ID', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Size: 'SIZE' };

export const imagesCommand: CommandModule<object, ImagesArgs> = {
  command: 'images',
  describe: 'list the images in the local store',
  builder: (y: Argv) =>
    y
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'show all images (nbuild keeps no intermediate images, so the same as without)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only image ids' })
      .option('digests', { type: 'boolean', default: false, describe: 'show manifest digests' })
      .option('no-trunc', { type: 'boolean', default: false, describe: 'do not shorten ids' })
      .option('filter', { type: 'string', array: true, default: [], describe: 'dangling=true|false, reference=PATTERN, label=K[=V], before=IMAGE, since=IMAGE' })
      .option('format', { type: 'string', describe: 'Go-template-like format, e.g. "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}"' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<ImagesArgs>,
  handler: async (args) => {
    const [{ Store }, { parseReference }, fmt] = await Promise.all([import('../../store/store.js'), import('../../image/reference.js'), import('../../export/format.js')]);
    const store = await Store.open(resolveStoreRoot(args.root));
    let entries = (await store.listImages()).sort((a, b) => (b.created ?? b.added).localeCompare(a.created ?? a.added));
    const filters = (args.filter ?? []).map(parseFilter);
    for (const f of filters) {
      if (f.key === 'before' || f.key === 'since') {
        const other = await store.getImage(f.value);
        if (!other) throw new UsageError(`--filter ${f.key}=${f.value}: no such image`);
        const t = other.config.created ?? '';
        entries = entries.filter((e) => (f.key === 'before' ? (e.created ?? '') < t : (e.created ?? '') > t));
      }
    }
    const rows: Row[] = [];
    for (const e of entries) {
      if (!matchesImage(e, filters)) continue;
      const size = (e.images ?? [e.image]).reduce((n, img) => img.layers.reduce((m, l) => m + l.size, n + img.configBytes().length), 0);
      const base = {
        // A multi-platform index: its digest, and its platforms.
        Digest: (e.index?.digest ?? e.image.manifestDigest).toString(),
        Platforms: e.index ? e.index.platforms().join(',') : formatPlatform(e.image.config),
        // A multi-platform image's id is its index digest (what build prints and --iidfile holds).
        ID: args['no-trunc'] ? (e.index?.digest ?? e.image.id).toString() : (e.index?.digest ?? e.image.id).short(),
        CreatedAt: e.created ?? '',
        CreatedSince: fmt.ago(e.created),
        Size: fmt.humanSize(size),
        Labels: e.image.config.config?.Labels ?? {},
      };
      const refFilters = filters.filter((f) => f.key === 'reference');
      if (e.names.length === 0) {
        if (refFilters.length === 0) rows.push({ Repository: '<none>', Tag: '<none>', ...base });
        continue;
      }
      for (const n of e.names) {
        const ref = parseReference(n);
        if (!refFilters.every((f) => matchReference(f.value, ref.familiarName(), ref.tag))) continue;
        rows.push({ Repository: ref.familiarName(), Tag: ref.tag, ...base });
      }
    }
    if (args.quiet) {
      process.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
    } else if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else if (args.format) {
      process.stdout.write(fmt.renderList(args.format, rows as unknown as Record<string, unknown>[], HEADERS));
    } else {
      const anyIndex = entries.some((e) => e.index);
      const cols = anyIndex ? 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Platforms}}\t{{.CreatedSince}}\t{{.Size}}' : args.digests ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      process.stdout.write(fmt.renderList(cols, rows as unknown as Record<string, unknown>[], HEADERS));
    }
  },
};

interface Filter {
  key: 'dangling' | 'reference' | 'label' | 'before' | 'since';
  value: string;
}

function parseFilter(text: string): Filter {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (!['dangling', 'reference', 'label', 'before', 'since'].includes(key) || value === '') {
    throw new UsageError(`invalid --filter ${JSON.stringify(text)}: use dangling=true|false, reference=PATTERN, label=K[=V], before=IMAGE or since=IMAGE`);
  }
  if (key === 'dangling' && value !== 'true' && value !== 'false') throw new UsageError('--filter dangling= takes true or false');
  return { key: key as Filter['key'], value };
}

function matchesImage(e: ImageListEntry, filters: Filter[]): boolean {
  const labels = e.image.config.config?.Labels ?? {};
  return filters.every((f) => {
    if (f.key === 'dangling') return (e.names.length === 0) === (f.value === 'true');
    if (f.key === 'label') {
      const eq = f.value.indexOf('=');
      return eq < 0 ? f.value in labels : labels[f.value.slice(0, eq)] === f.value.slice(eq + 1);
    }
    return true;
  });
}

/** Docker's reference filter: a path.Match glob on NAME or NAME:TAG. */
function matchReference(pattern: string, name: string, tag: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return pattern.includes(':') ? re.test(`${name}:${tag}`) : re.test(name);
}
