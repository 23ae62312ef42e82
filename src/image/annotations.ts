// `--annotation` as buildx documents it (docs.docker.com/build/building/annotations/):
// `[TYPE[,TYPE…][\[PLATFORM\]]:]KEY=VALUE`, TYPE one of manifest (the default), index,
// manifest-descriptor, index-descriptor; `[os/arch]` limits a manifest or manifest-descriptor
// annotation to that platform's image.
import { UsageError } from '../errors.js';
import { parsePlatform, platformMatches, type Platform } from './platform.js';

export type AnnotationTarget = 'manifest' | 'index' | 'manifest-descriptor' | 'index-descriptor';
const TARGETS: readonly string[] = ['manifest', 'index', 'manifest-descriptor', 'index-descriptor'];

export interface AnnotationSpec {
  targets: AnnotationTarget[];
  /** Only this platform's manifest (or its index entry). */
  platform?: Platform;
  key: string;
  value: string;
}

export function parseAnnotation(text: string): AnnotationSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--annotation ${text}: expected KEY=VALUE`);
  let key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  // buildx's key syntax: `^(?:(types)(?:\[platform\])?:)?(\S+)$`, types lower-case words with dashes.
  const m = /^([a-z-]+(?:,[a-z-]+)*)(?:\[([A-Za-z0-9_/-]+)\])?:(\S+)$/.exec(key);
  if (!m) return { targets: ['manifest'], key, value };
  const unknown = m[1].split(',').find((t) => !TARGETS.includes(t));
  if (unknown) throw new UsageError(`--annotation ${text}: unknown annotation type ${unknown} (manifest, index, manifest-descriptor, index-descriptor)`);
  const targets = m[1].split(',') as AnnotationTarget[];
  key = m[3];
  let platform: Platform | undefined;
  if (m[2] !== undefined) {
    platform = parsePlatform(m[2]);
    if (!platform) throw new UsageError(`--annotation ${text}: ${m[2]} is not a platform (os/arch[/variant])`);
    const bad = targets.find((t) => t === 'index' || t === 'index-descriptor');
    if (bad) throw new UsageError(`--annotation ${text}: ${bad} annotations take no platform`);
  }
  return { targets, platform, key, value };
}

/** The annotations for `target` (of the image of `platform`), or undefined when none. */
export function annotationsFor(specs: readonly AnnotationSpec[], target: AnnotationTarget, platform?: Platform): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const s of specs) {
    if (!s.targets.includes(target)) continue;
    if (s.platform && (!platform || !platformMatches(s.platform, platform))) continue;
    out[s.key] = s.value;
  }
  return Object.keys(out).length ? out : undefined;
}
