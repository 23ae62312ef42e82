// Reads an OCI archive with tools nbuild did not write (GNU tar, gzip,
// sha256sum), so tests check nbuild's output independently of its own code.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './nbuild-cli.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

export interface OpenedArchive {
  dir: string;
  index: { manifests: Descriptor[] };
  manifest: { config: Descriptor; layers: Descriptor[]; mediaType?: string };
  config: {
    architecture: string;
    os: string;
    created?: string;
    config: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
    history: { created_by?: string; empty_layer?: boolean }[];
  };
  blob(digest: string): string;
}

export function openOciArchive(file: string): OpenedArchive {
  const dir = tempDir('oci');
  execFileSync('tar', ['-xf', file, '-C', dir]);
  const blob = (digest: string): string => path.join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
  return { dir, index, manifest, config, blob };
}

export function sha256sum(file: string): string {
  return 'sha256:' + execFileSync('sha256sum', [file]).toString().split(' ')[0];
}

/** sha256 of the decompressed stream (gzip, zstd or plain). */
export function diffIdOf(file: string, mediaType: string): string {
  const decompress = mediaType.endsWith('+gzip') ? 'gzip -dc' : mediaType.endsWith('+zstd') ? 'zstd -dc' : 'cat';
  return 'sha256:' + execFileSync('sh', ['-c', `${decompress} < "$1" | sha256sum`, 'sh', file]).toString().split(' ')[0];
}

export interface TarEntry {
  mode: string; // e.g. "-rwxr-xr-x"
  owner: string; // "uid/gid"
  name: string;
  link?: string;
}

/** `tar -tv --numeric-owner` of a layer blob, parsed. */
export function listLayer(file: string): TarEntry[] {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', file]).toString();
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+)\s+(\S+)\s+\d+(?:,\s*\d+)?\s+\S+\s+\S+\s+(.*)$/.exec(line);
      if (!m) throw new Error(`cannot parse tar line: ${line}`);
      const [name, link] = m[3].split(/ -> | link to /);
      return { mode: m[1], owner: m[2], name: name.replace(/^\.\//, '').replace(/\/$/, ''), link };
    });
}
