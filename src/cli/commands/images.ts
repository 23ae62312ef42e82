// `nbuild images`: list the images of the store, docker style.
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import type { ImageFilter } from '../../images/list.js';
import type { NbuildCommand } from '../command.js';
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

export const imagesCommand: NbuildCommand<ImagesArgs> = {
  command: 'images',
  userns: false,
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
    const [{ listImages }, { Digest }, fmt] = await Promise.all([import('../../images/list.js'), import('../../image/digest.js'), import('../format.js')]);
    const summaries = await listImages({ storeRoot: resolveStoreRoot(args.root), filters: (args.filter ?? []).map(parseFilter) });
    const rows: Row[] = summaries.map((s) => ({
      Repository: s.repository,
      Tag: s.tag,
      Digest: s.digest,
      Platforms: s.platforms.join(','),
      ID: args['no-trunc'] ? s.id : Digest.parse(s.id).short(),
      CreatedAt: s.created ?? '',
      CreatedSince: fmt.ago(s.created),
      Size: fmt.humanSize(s.size),
      Labels: s.labels,
    }));
    if (args.quiet) {
      process.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join(''));
    } else if (args.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    } else if (args.format) {
      process.stdout.write(fmt.renderList(args.format, rows as unknown as Record<string, unknown>[], HEADERS));
    } else {
      const anyIndex = summaries.some((s) => s.multiPlatform);
      const cols = anyIndex ? 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Platforms}}\t{{.CreatedSince}}\t{{.Size}}' : args.digests ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}' : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      process.stdout.write(fmt.renderList(cols, rows as unknown as Record<string, unknown>[], HEADERS));
    }
  },
};

function parseFilter(text: string): ImageFilter {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (!['dangling', 'reference', 'label', 'before', 'since'].includes(key) || value === '') {
    throw new UsageError(`invalid --filter ${JSON.stringify(text)}: use dangling=true|false, reference=PATTERN, label=K[=V], before=IMAGE or since=IMAGE`);
  }
  if (key === 'dangling' && value !== 'true' && value !== 'false') throw new UsageError('--filter dangling= takes true or false');
  return { key: key as ImageFilter['key'], value };
}
