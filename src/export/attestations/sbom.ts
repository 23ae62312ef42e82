// An SPDX 2.3 JSON document of the packages in an image (the in-toto predicate
// https://spdx.dev/Document, as BuildKit's SBOM attestations carry). Packages come from the
// image's own package databases (package-db.ts); the document is the same for the same image.
import type { InstalledPackage, PackageScan } from './package-db.js';
import { sha256Hex } from '../../native/index.js';

export const SPDX_PREDICATE = 'https://spdx.dev/Document';

export interface SbomInput {
  scan: PackageScan;
  /** The image config's digest: names the document (documentNamespace). */
  imageId: string;
  tool: string;
  created: Date;
}

export function spdxDocument({ scan, imageId, tool, created }: SbomInput): Record<string, unknown> {
  const ids = new Set<string>();
  const packages = scan.packages.map((p) => {
    let id = `SPDXRef-Package-${p.manager}-${p.name}-${shortHash(`${p.name} ${p.version} ${p.architecture ?? ''} ${p.db}`)}`.replace(/[^A-Za-z0-9.-]/g, '-');
    while (ids.has(id)) id += '-x';
    ids.add(id);
    const pkg: Record<string, unknown> = {
      name: p.name,
      SPDXID: id,
      versionInfo: p.version,
      supplier: p.maintainer ? `Person: ${p.maintainer.replace(/\s*<([^>]*)>\s*$/, ' ($1)').trim()}` : 'NOASSERTION',
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      sourceInfo: `acquired package info from ${p.manager === 'dpkg' ? 'DPKG DB' : 'APK DB'}: ${p.db}`,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: packageUrl(p, scan.distro) }],
    };
    // apk's L: is free text, not always an SPDX expression: kept as a comment, licenseDeclared stays NOASSERTION.
    if (p.license) pkg.comment = `license (from the package database): ${p.license}`;
    return pkg;
  });
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `sbom-${imageId.replace(/^sha256:/, '').slice(0, 12)}`,
    documentNamespace: `https://spdx.org/spdxdocs/nbuild-${imageId.replace(/^sha256:/, '')}`,
    creationInfo: { created: created.toISOString().replace(/\.\d{3}Z$/, 'Z'), creators: [`Tool: ${tool}`] },
    packages,
    relationships: packages.map((p) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: p.SPDXID })),
  };
}

/** `pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12` (purl-spec deb and apk types). */
export function packageUrl(p: InstalledPackage, distro: PackageScan['distro']): string {
  const type = p.manager === 'dpkg' ? 'deb' : 'apk';
  const ns = distro?.id ?? (p.manager === 'dpkg' ? 'debian' : 'alpine');
  const q: string[] = [];
  if (p.architecture) q.push(`arch=${encodeURIComponent(p.architecture)}`);
  if (p.source) q.push(`upstream=${encodeURIComponent(p.source)}`);
  if (distro) q.push(`distro=${encodeURIComponent(distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id)}`);
  return `pkg:${type}/${encodeURIComponent(ns)}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}${q.length ? `?${q.join('&')}` : ''}`;
}

function shortHash(s: string): string {
  return sha256Hex(s).slice(0, 16);
}
