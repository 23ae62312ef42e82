// The final file tree of an image, flattened for comparison with another builder's: every layer
// read with a tar parser written here (not nbuild's engine), applied in order (whiteouts delete,
// opaque markers empty a folder), each path described by type, mode, owner, size, content
// hash, link target and xattrs. Hard links are described by the set of names that share them,
// so two builders that pick a different first name for a link set still compare equal.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';
  mode: string; // octal permission and special bits, e.g. "4755"
  owner: string; // "uid:gid"
  size: number;
  sha256?: string;
  link?: string;
  xattrs: Record<string, string>;
  /** Other names of this file (hard links), sorted; absent for a file with one name. */
  links?: string[];
}

interface RawEntry {
  name: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  link: string;
  xattrs: Record<string, string>;
  sha256?: string;
  /** Which file this name is, once applied: hard links share the inode of their target. */
  inode?: number;
}

const TYPES: Record<string, TreeEntry['type'] | 'hardlink'> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** Reads a layer blob (gzip or plain tar) into its entries. Test-only: the layer is held in memory. */
export function readLayer(file: string): RawEntry[] {
  let data = fs.readFileSync(file);
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  const out: RawEntry[] = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (let off = 0; off + 512 <= data.length; ) {
    const h = data.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, b: number): string => {
      const s = h.subarray(a, b);
      const nul = s.indexOf(0);
      return s.subarray(0, nul < 0 ? s.length : nul).toString('utf8');
    };
    const num = (a: number, b: number): number => {
      if (h[a] & 0x80) {
        let v = 0;
        for (let i = a + 1; i < b; i++) v = v * 256 + h[i];
        return v;
      }
      const s = str(a, b).trim();
      return s === '' ? 0 : parseInt(s, 8);
    };
    const typeflag = String.fromCharCode(h[156]);
    let size = num(124, 136);
    if (pax.size !== undefined && typeflag !== 'x' && typeflag !== 'g') size = Number(pax.size);
    const body = data.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (typeflag === 'x') {
      pax = { ...pax, ...parsePax(body) };
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeflag === 'K') {
      longLink = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const prefix = str(345, 500);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const xattrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = Buffer.from(v, 'latin1').toString('base64');
    out.push({
      name: clean(name),
      typeflag,
      mode: num(100, 108) & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : num(108, 116),
      gid: pax.gid !== undefined ? Number(pax.gid) : num(116, 124),
      size: TYPES[typeflag] === 'file' ? size : 0,
      link: clean(pax.linkpath ?? longLink ?? str(157, 257), TYPES[typeflag] !== 'hardlink'),
      xattrs,
      sha256: TYPES[typeflag] === 'file' ? createHash('sha256').update(body).digest('hex') : undefined,
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return out;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < body.length) {
    const space = body.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(body.subarray(off, space).toString());
    if (!len) break;
    const record = body.subarray(space + 1, off + len - 1);
    const eq = record.indexOf(0x3d);
    // xattr values are bytes: keep them as latin1 so they round-trip into base64.
    out[record.subarray(0, eq).toString('utf8')] = record.subarray(eq + 1).toString(record.subarray(0, eq).toString().startsWith('SCHILY.xattr.') ? 'latin1' : 'utf8');
    off += len;
  }
  return out;
}

/** `./a/b/` → `a/b`; a symlink's target is kept as written. */
function clean(name: string, asWritten = false): string {
  if (asWritten) return name;
  return name.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Applies the layers (lowest first) and describes the result. */
export function flattenLayers(layerFiles: string[]): Map<string, TreeEntry> {
  const tree = new Map<string, RawEntry>();
  let inodes = 0;
  for (const file of layerFiles) {
    const entries = readLayer(file);
    for (const e of entries) {
      const base = e.name.split('/').pop() ?? '';
      const dir = e.name.includes('/') ? e.name.slice(0, e.name.lastIndexOf('/')) : '';
      if (base === '.wh..wh..opq') removeUnder(tree, dir, false);
      else if (base.startsWith('.wh.')) removeUnder(tree, dir ? `${dir}/${base.slice(4)}` : base.slice(4), true);
    }
    for (const e of entries) {
      if (e.name === '' || e.name === '.' || (e.name.split('/').pop() ?? '').startsWith('.wh.')) continue;
      // A new non-folder replaces whatever was there, folder included.
      if (TYPES[e.typeflag] !== 'dir') removeUnder(tree, e.name, false);
      if (TYPES[e.typeflag] === 'hardlink') {
        // A hard link names the file its target is now (an earlier entry of this layer, or below).
        const target = tree.get(clean(e.link));
        if (!target) throw new Error(`${file}: hard link ${e.name} to ${e.link}, which does not exist`);
        tree.set(e.name, { ...target, name: e.name });
      } else tree.set(e.name, { ...e, inode: ++inodes });
    }
  }
  return describe(tree);
}

function removeUnder(tree: Map<string, RawEntry>, dir: string, self: boolean): void {
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const name of [...tree.keys()]) {
    if ((self && name === dir) || name.startsWith(prefix)) tree.delete(name);
  }
}

function describe(tree: Map<string, RawEntry>): Map<string, TreeEntry> {
  const names = new Map<number, string[]>();
  for (const [name, e] of tree) if (e.inode !== undefined && TYPES[e.typeflag] === 'file') names.set(e.inode, [...(names.get(e.inode) ?? []), name]);
  const out = new Map<string, TreeEntry>();
  for (const [name, e] of tree) {
    const type = TYPES[e.typeflag];
    const entry: TreeEntry = {
      type: type === 'hardlink' || type === undefined ? 'file' : type,
      mode: e.mode.toString(8).padStart(4, '0'),
      owner: `${e.uid}:${e.gid}`,
      size: e.size,
      xattrs: e.xattrs,
    };
    if (e.sha256) entry.sha256 = e.sha256;
    if (type === 'symlink') entry.link = e.link;
    const group = e.inode !== undefined ? names.get(e.inode) : undefined;
    if (group && group.length > 1) entry.links = [...group].sort();
    out.set(name, entry);
  }
  return out;
}

/** The differences between two trees, one line each (`+` only in b, `-` only in a, `~` changed). */
export function diffTrees(a: Map<string, TreeEntry>, b: Map<string, TreeEntry>): string[] {
  const lines: string[] = [];
  for (const [name, ea] of a) {
    const eb = b.get(name);
    if (!eb) lines.push(`- ${name} (${ea.type})`);
    else {
      const fields: string[] = [];
      for (const k of ['type', 'mode', 'owner', 'size', 'sha256', 'link'] as const) if (ea[k] !== eb[k]) fields.push(`${k} ${ea[k]} → ${eb[k]}`);
      if (JSON.stringify(sorted(ea.xattrs)) !== JSON.stringify(sorted(eb.xattrs))) fields.push(`xattrs ${Object.keys(ea.xattrs).join(',')} → ${Object.keys(eb.xattrs).join(',')}`);
      if (JSON.stringify(ea.links ?? []) !== JSON.stringify(eb.links ?? [])) fields.push(`links ${(ea.links ?? []).length} → ${(eb.links ?? []).length}`);
      if (fields.length) lines.push(`~ ${name}: ${fields.join('; ')}`);
    }
  }
  for (const [name, eb] of b) if (!a.has(name)) lines.push(`+ ${name} (${eb.type})`);
  return lines.sort();
}

function sorted(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}
