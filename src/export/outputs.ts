// `-o/--output` destinations of a build, as docker buildx writes them.
import * as path from 'node:path';
import type { Store } from '../store/store.js';
import type { Image } from '../image/image.js';
import { writeOciArchive } from './oci-archive.js';
import { writeOciLayout } from './oci-layout.js';
import { writeDockerArchive } from './docker-archive.js';
import { writeRootfs } from './rootfs.js';
import { UsageError } from '../errors.js';

export type OutputSpec =
  | { type: 'oci' | 'docker'; dest: string; name?: string }
  | { type: 'oci-layout'; dest: string; name?: string }
  | { type: 'local' | 'tar'; dest: string }
  | { type: 'registry'; name?: string };

/** Parses `type=T,dest=D[,name=N]`, or a bare `FILE.tar` (= type=oci). */
export function parseOutputSpec(text: string): OutputSpec {
  if (!text.includes('=')) {
    if (text === '-') throw new UsageError('--output -: writing to stdout is not supported; name a file');
    return { type: 'oci', dest: text };
  }
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`--output ${text}: "${part}" is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const type = fields.get('type') ?? 'local';
  const dest = fields.get('dest');
  const name = fields.get('name');
  const needDest = (): string => {
    if (!dest) throw new UsageError(`--output type=${type} needs dest=`);
    return path.resolve(dest);
  };
  switch (type) {
    case 'oci':
    case 'docker':
    case 'oci-layout':
      return { type, dest: needDest(), name };
    case 'local':
    case 'tar':
      return { type, dest: needDest() };
    case 'registry':
    case 'image':
      return { type: 'registry', name };
    default:
      throw new UsageError(`--output: unknown type "${type}" (oci, oci-layout, docker, registry, local, tar)`);
  }
}

export async function writeOutputs(store: Store, image: Image, names: string[], outputs: OutputSpec[]): Promise<void> {
  for (const out of outputs) {
    const outNames = 'name' in out && out.name ? out.name.split(',').filter(Boolean) : names;
    switch (out.type) {
      case 'oci':
        await writeOciArchive(store, [{ image, names: outNames }], out.dest);
        break;
      case 'oci-layout':
        await writeOciLayout(store, [{ image, names: outNames }], out.dest);
        break;
      case 'docker':
        await writeDockerArchive(store, [{ image, names: outNames }], out.dest);
        break;
      case 'local':
      case 'tar':
        await writeRootfs(store, image, out.type, out.dest);
        break;
      case 'registry': {
        const { pushImage } = await import('../registry/index.js');
        if (outNames.length === 0) throw new UsageError('--output type=registry needs -t NAME or name=');
        for (const n of outNames) await pushImage(store, image, n, {});
        break;
      }
    }
  }
}
