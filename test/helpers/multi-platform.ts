// What the multi-platform tests share (test/behaviour/multi-platform.test.ts through the API,
// test/e2e/multi-platform-cli.test.ts through bin/nbuild): the arm64 busybox base (Debian's
// busybox-static:arm64, packed by scripts/make-busybox-image.sh), whether this host emulates
// arm64, the cross Dockerfile, and reading an OCI layout.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot, tempDir } from './nbuild-cli.js';

/** The arm64 busybox archive, or undefined (with the reason on stderr) where it cannot be made. */
export function arm64Busybox(): string | undefined {
  const out = path.join(tempDir('busybox-arm64'), 'busybox-arm64.oci.tar');
  try {
    execFileSync('bash', [path.join(projectRoot, 'scripts', 'make-busybox-image.sh'), out, 'latest', 'arm64'], { stdio: 'pipe' });
    return out;
  } catch (e) {
    console.error(`multi-platform tests skipped: no arm64 busybox (${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e)}); run scripts/setup-host.sh as root`);
    return undefined;
  }
}

/** An enabled qemu-aarch64 handler with the F flag: what emulated RUN needs. */
export function haveArm64Emulation(): boolean {
  const dir = '/proc/sys/fs/binfmt_misc';
  try {
    for (const name of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      if (/^enabled/.test(text) && /^flags: .*F/m.test(text) && /^magic 7f454c460201010000000000000000000200b700/m.test(text)) return true;
    }
  } catch {
    // binfmt_misc not mounted
  }
  console.error('emulated RUN tests skipped: no qemu-aarch64 binfmt_misc handler with the F flag (scripts/setup-host.sh registers it)');
  return false;
}

export const PLATFORMS = 'linux/amd64,linux/arm64';

export function readJsonBlob(layoutDir: string, digest: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(layoutDir, 'blobs', 'sha256', digest.replace('sha256:', '')), 'utf8')) as Record<string, unknown>;
}

export interface IndexDoc {
  mediaType: string;
  manifests: { digest: string; mediaType: string; platform?: { architecture: string; os: string; variant?: string } }[];
}

/** The cross pattern: the builder stage runs natively for $TARGETARCH; the final stage only copies. */
export const CROSS = `FROM --platform=$BUILDPLATFORM busybox:amd64 AS build
ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT
RUN echo "T=$TARGETPLATFORM/$TARGETOS/$TARGETARCH/$TARGETVARIANT B=$BUILDPLATFORM/$BUILDOS/$BUILDARCH/$BUILDVARIANT m=$(uname -m)" > /values
FROM busybox:$TARGETARCH
COPY --from=build /values /values
`;
