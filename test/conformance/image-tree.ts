// The final file tree of an image in an OCI archive: every layer listed with
// GNU tar and applied in order (whiteouts delete, opaque markers empty a
// folder), as upstream's conformance comparison does.
import { listLayer, type OpenedArchive, type TarEntry } from '../helpers/oci.js';

export function imageTree(archive: OpenedArchive): Map<string, TarEntry> {
  const tree = new Map<string, TarEntry>();
  for (const layer of archive.manifest.layers) {
    const entries = listLayer(archive.blob(layer.digest));
    // Whiteouts apply to the layers below, so do them before this layer's adds.
    for (const e of entries) {
      const base = e.name.split('/').pop() ?? '';
      const dir = e.name.includes('/') ? e.name.slice(0, e.name.lastIndexOf('/')) : '';
      if (base === '.wh..wh..opq') removeUnder(tree, dir, false);
      else if (base.startsWith('.wh.')) removeUnder(tree, dir ? `${dir}/${base.slice(4)}` : base.slice(4), true);
    }
    for (const e of entries) {
      if (e.name === '' || e.name === '.' || (e.name.split('/').pop() ?? '').startsWith('.wh.')) continue;
      tree.set(e.name, e);
    }
  }
  return tree;
}

function removeUnder(tree: Map<string, TarEntry>, dir: string, self: boolean): void {
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const name of [...tree.keys()]) {
    if ((self && name === dir) || name.startsWith(prefix)) tree.delete(name);
  }
}
