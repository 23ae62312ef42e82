// Loads buildah's docker-vs-buildah conformance cases (third-party data under
// /work/shared/conformance/buildah, see its README) and decides which of them
// nbuild can build here: we have a busybox base and no network, so cases that
// need other base images, URLs or buildah-only features are skipped, with why.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { projectRoot } from '../helpers/nbuild-cli.js';

export type SetupOp =
  | { op: 'mkdir'; path: string; mode: string }
  | { op: 'writeFile'; path: string; content: string; mode: string }
  | { op: 'lchown'; path: string; uid: number; gid: number }
  | { op: 'chmod'; path: string; mode: string }
  | { op: 'chtimes'; path: string; atime: number; mtime: number }
  | { op: 'lsetxattr'; path: string; xattrs: Record<string, string> }
  | { op: 'writeTar'; path: string; mode: string; entries: TarSpec[] };

export interface TarSpec {
  name: string;
  type: 'reg' | 'dir';
  content?: string;
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  paxRecords?: Record<string, string>;
}

export interface BuildahCase {
  index: number;
  name: string;
  contextDir: string | null;
  dockerfile: string | null;
  dockerfileInline?: string;
  expect: 'success' | 'failure';
  shouldFailAt?: number;
  failureRegex?: string;
  buildahRegex?: string;
  buildahErrRegex?: string;
  withoutDocker?: boolean;
  transientMounts?: string[];
  skipUnless?: string;
  buildArgs?: Record<string, string>;
  contextSetup?: SetupOp[];
  omittedContextFiles?: { path: string; content: string; mode: string }[];
  fsSkip?: string[];
}

export interface CaseFile {
  testDateUnix: number;
  cases: BuildahCase[];
}

/** The conformance folder: NBUILD_CONFORMANCE, else ../shared/conformance beside the project. */
export function conformanceRoot(): string {
  return process.env.NBUILD_CONFORMANCE ?? path.resolve(projectRoot, '..', 'shared', 'conformance');
}

export function loadCases(buildahDir: string): CaseFile {
  return JSON.parse(fs.readFileSync(path.join(buildahDir, 'cases.json'), 'utf8')) as CaseFile;
}

/** The Dockerfile's text as the case builds it. */
export function dockerfileText(dir: string, c: BuildahCase): string {
  if (c.dockerfileInline !== undefined) return c.dockerfileInline;
  const rel = c.contextDir ? path.join(c.contextDir, c.dockerfile ?? 'Dockerfile') : path.join('testdata', c.dockerfile ?? 'Dockerfile');
  return fs.readFileSync(path.join(dir, rel), 'utf8');
}

// Base images the store holds: busybox is loaded under the names the cases use.
const AVAILABLE_IMAGES = new Set(['scratch', 'mirror.gcr.io/busybox', 'mirror.gcr.io/busybox:latest', 'busybox', 'busybox:latest']);

/** Why this case cannot run here, or undefined if it can. */
export function skipReason(c: BuildahCase, text: string): string | undefined {
  if (c.transientMounts) return 'buildah-only transient mounts (build-time --volume), nbuild has no equivalent';
  if (/^\s*ADD\s+(--\S+\s+)*\S*https?:\/\//im.test(text)) return 'ADD of a URL needs network';
  if (c.contextSetup?.some((op) => op.op === 'lchown' && (op.uid !== process.getuid?.() || op.gid !== process.getgid?.()))) {
    return 'context files must be chowned to other ids, which needs root on the host';
  }
  if (c.skipUnless && !userXattrsWork()) return `${c.skipUnless}: not on this host`;
  const stages = new Set<string>();
  const headerArgs = argDefaults(text);
  for (const m of text.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = substitute(m[1], { ...headerArgs, ...c.buildArgs });
    if (m[2]) stages.add(m[2].toLowerCase());
    if (stages.has(image.toLowerCase()) || AVAILABLE_IMAGES.has(image)) continue;
    if (image.includes('$')) return `FROM ${m[1]}: cannot tell the base image`;
    return `needs base image ${image} (only busybox is available offline)`;
  }
  return undefined;
}

/** `ARG NAME=value` defaults anywhere in the file (good enough to resolve FROM $NAME). */
function argDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)=("?)([^"\s]*)\2/gim)) out[m[1]] ??= m[3];
  return out;
}

function substitute(word: string, vars: Record<string, string>): string {
  return word.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (all, name: string) => vars[name] ?? all);
}

let xattrs: boolean | undefined;

/** Whether user.* xattrs can be set on files in the temp folder (python3 does it for us). */
export function userXattrsWork(): boolean {
  if (xattrs === undefined) {
    try {
      execFileSync('python3', ['-c', 'import os,tempfile\nf=tempfile.NamedTemporaryFile()\nos.setxattr(f.name,"user.nbuild",b"1")'], { stdio: 'ignore' });
      xattrs = true;
    } catch {
      xattrs = false;
    }
  }
  return xattrs;
}

/** Go regexp → JS: the cases only use a leading `(?s)` flag group. */
export function goRegExp(source: string, extraFlags = ''): RegExp {
  const m = /^\(\?([a-z]+)\)/.exec(source);
  return m ? new RegExp(source.slice(m[0].length), m[1] + extraFlags) : new RegExp(source, extraFlags);
}
