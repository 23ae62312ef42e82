// Differential test against a peer (issue 14): realistic Dockerfiles on a Debian base built by
// nbuild and by rootless buildah (Debian's package), both flattened to a file list (type, mode,
// owner, size, content hash, link target, xattrs, hard link sets) by a tar reader of the test's
// own, and compared. buildah's known deviations from Docker are filtered, each with its reason;
// every other difference fails the test. Runs as the unprivileged user, like everything here.
// The Debian base is made by scripts/make-debian-image.sh (.ci/run makes it); buildah is
// installed by scripts/setup-host.sh. apt steps need Debian's mirror, as test/behaviour/apt.test.ts.
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { hasCommand, nbuild, tempDir, writeFiles } from '../helpers/nbuild-cli.js';
import { DEBIAN_IMAGE } from '../helpers/debian-image.js';
import { inCi } from '../helpers/ci.js';
import { openOciArchive } from '../helpers/oci.js';
import { diffTrees, flattenLayers, type TreeEntry } from '../helpers/tar-tree.js';

const run = promisify(execFile);
const DEBIAN = DEBIAN_IMAGE;
const BASE = 'docker.io/library/debian:bookworm';
const ready = fs.existsSync(DEBIAN) && hasCommand('buildah');
if (!ready && !inCi) process.stderr.write(`\ndifferential/buildah: SKIPPED: needs ${DEBIAN} (scripts/make-debian-image.sh) and buildah (scripts/setup-host.sh)\n\n`);
const maybe = ready || inCi ? test.serial : test.serial.skip;

/**
 * buildah's known deviations from Docker/BuildKit, one rule each with why. A rule returns true
 * for a difference line it explains.
 */
const KNOWN_BUILDAH_DEVIATIONS: { why: string; explains: (line: string) => boolean }[] = [
  {
    why: 'buildah leaves the empty /etc/hosts, /etc/resolv.conf and /etc/hostname it bind-mounted over during RUN in the layer; Docker and nbuild do not',
    explains: (l) => /^\+ etc\/(hosts|resolv\.conf|hostname) \(file\)$/.test(l),
  },
  {
    why: "buildah's rootless overlay driver records user.overlay.* xattrs on copied-up folders",
    explains: (l) => /xattrs .*user\.overlay\./.test(l),
  },
  {
    why: 'buildah creates the mount points /proc, /sys, /dev (and /run) in the first RUN layer when the base lacks them; Docker does not add them to layers',
    explains: (l) => /^\+ (proc|sys|dev|run) \(dir\)$/.test(l),
  },
  {
    why:
      'hard links to files of a lower layer (only in the hard-link case): on the kernel overlay that Docker (overlay2) and BuildKit (overlayfs snapshotter) run RUN on, ln(1) of a lower file copies it up and links the new name to the copy, and a write copies up only the written name, so the other names keep the old content and their old link set; buildah records the link sets as they were below and writes the new content under every name',
    explains: (l) =>
      /^~ h\/[acd]: size 5 → 8; sha256 \w+ → \w+; links [02] → 4$/.test(l) ||
      /^~ h\/b: links 0 → 4$/.test(l) ||
      /^~ (h\/perl-link|usr\/bin\/perl5\.36\.0|usr\/bin\/perl): links [02] → [02]$/.test(l),
  },
  {
    why: "COPY --chmod=OCTAL to a path whose parent folders do not exist yet: nbuild gives the folders it creates that mode, as BuildKit's copier does (test/buildkit copy tests); buildah makes them 0755",
    explains: (l) => /^~ etc\/app: mode 0640 → 0755$/.test(l),
  },
  {
    why:
      "ADD of an archive whose `./` entry belongs to the user who made it (only in the archive case): BuildKit's unpack (solver/llbsolver/file/unpack.go: unpack) makes the destination with copy.MkdirAll (0755, --chown's owner or 0:0) and go-archive's Unpack (vendor/github.com/moby/go-archive/archive.go: Unpack) skips a `.` entry when the destination is a folder, so /opt/app keeps WORKDIR's 0:0 and 0755, as in nbuild; buildah gives it the `./` entry's owner (and mode)",
    explains: (l) => /^~ opt\/app: (mode 0755 → 0[0-7]{3}; )?owner 0:0 → \d+:\d+$/.test(l),
  },
];

let bStore: string;
let nStore: string;
const buildahArgs = (): string[] => ['--root', path.join(bStore, 'storage'), '--runroot', path.join(bStore, 'run')];
/** buildah's engine settings (as ../shared/bench/setup-peers.sh has them): crun refuses this machine kind's hybrid cgroup layout, runc copes. */
const buildahEnv = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF: path.join(bStore, 'containers.conf') });

test.before(async () => {
  if (!ready) return;
  bStore = tempDir('diff-buildah');
  nStore = tempDir('diff-nbuild');
  fs.writeFileSync(path.join(bStore, 'containers.conf'), '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  await run('buildah', [...buildahArgs(), 'pull', '-q', `oci-archive:${DEBIAN}`], { maxBuffer: 1 << 26, env: buildahEnv() });
  const l = await nbuild(['--root', nStore, 'load', '-i', DEBIAN, '-t', BASE]);
  if (l.code !== 0) throw new Error(l.stderr);
});

test.after.always(async () => {
  if (!bStore) return;
  // buildah's store holds files owned by subordinate ids: remove it from inside its namespace.
  await run('buildah', ['unshare', 'rm', '-rf', bStore], { env: buildahEnv() }).catch(() => undefined);
});

interface Case {
  name: string;
  /** An open difference: the case runs as test.failing with this reason until it is settled. */
  failing?: string;
  files: Record<string, string>;
  setup?: (ctx: string) => void;
}

const CASES: Case[] = [
  {
    name: 'apt install of packages with setuid files and file capabilities',
    files: {
      Dockerfile: `FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends iputils-ping sudo && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /var/cache/ldconfig/aux-cache
`,
    },
  },
  {
    name: 'useradd and chown',
    files: {
      Dockerfile: `FROM ${BASE}
RUN useradd -m -u 1234 -s /bin/sh app && mkdir -p /data/sub && touch /data/sub/f && chown -R app:app /data && chown 0:1234 /data/sub/f && chmod 2775 /data/sub \\
 && rm -f /var/log/lastlog /var/log/faillog /etc/shadow- /etc/gshadow- /etc/passwd- /etc/group- /etc/subuid- /etc/subgid-
USER app
RUN touch /home/app/by-app && mkdir /home/app/d
`,
    },
  },
  {
    name: 'multi-stage C build',
    files: {
      Dockerfile: `FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev
COPY hello.c /src/hello.c
RUN gcc -O2 -o /src/hello /src/hello.c && /src/hello > /src/out.txt
FROM ${BASE}
COPY --from=build /src/hello /usr/local/bin/hello
COPY --from=build /src/out.txt /out.txt
RUN /usr/local/bin/hello > /ran.txt
`,
      'hello.c': '#include <stdio.h>\nint main(void) { puts("hello from a multi-stage build"); return 0; }\n',
    },
  },
  {
    name: 'deletions and folder/file swaps',
    files: {
      Dockerfile: `FROM ${BASE}
RUN mkdir -p /swap/dir-to-file/inner /swap/file-to-dir && echo a > /swap/dir-to-file/inner/a && echo f > /swap/file-to-dir/x && echo keep > /swap/keep
RUN rm -rf /swap/dir-to-file && echo now-a-file > /swap/dir-to-file && rm /swap/file-to-dir/x && rmdir /swap/file-to-dir && mkdir /swap/file-to-dir && echo in > /swap/file-to-dir/y
RUN rm -rf /usr/share/doc /usr/share/man /etc/cron.daily && rm /etc/motd
RUN mkdir /opaque && echo 1 > /opaque/one
RUN rm -rf /opaque && mkdir /opaque && echo 2 > /opaque/two
`,
    },
  },
  {
    name: 'COPY into /bin/ on a merged-/usr base',
    files: {
      Dockerfile: `FROM ${BASE}
COPY tool.sh /bin/
COPY tool.sh /usr/local/bin/tool2
RUN /bin/tool.sh > /tool-out.txt && ls -ld /bin > /bin-is.txt
`,
      'tool.sh': '#!/bin/sh\necho tool ran\n',
    },
    setup: (ctx) => fs.chmodSync(path.join(ctx, 'tool.sh'), 0o755),
  },
  {
    name: 'hard links within and across layers',
    files: {
      Dockerfile: `FROM ${BASE}
RUN mkdir /h && echo data > /h/a && ln /h/a /h/b && ln /h/a /h/c
RUN ln /h/a /h/d && ln /usr/bin/perl /h/perl-link
RUN echo changed > /h/b
`,
    },
  },
  {
    name: 'many small files',
    files: {
      Dockerfile: `FROM ${BASE}
COPY many/ /many/
RUN mkdir /gen && cd /gen && i=0; while [ $i -lt 1500 ]; do echo $i > f$i; i=$((i+1)); done
`,
    },
    setup: (ctx) => {
      for (let d = 0; d < 20; d++) for (let f = 0; f < 25; f++) writeFiles(ctx, { [`many/d${d}/f${f}.txt`]: `${d}-${f}\n` });
    },
  },
  {
    name: 'COPY --chown and --chmod, symlinks and modes from the context',
    files: {
      Dockerfile: `FROM ${BASE}
RUN useradd -u 2001 web
COPY --chown=web:web app/ /srv/app/
COPY --chmod=0640 conf.ini /etc/app/conf.ini
COPY --chown=2002:2003 --chmod=755 run.sh /usr/local/bin/
COPY app/link /srv/link
`,
      'app/index.html': '<h1>hi</h1>\n',
      'app/sub/data.json': '{}\n',
      'conf.ini': '[a]\nb=c\n',
      'run.sh': '#!/bin/sh\n',
    },
    setup: (ctx) => {
      fs.symlinkSync('index.html', path.join(ctx, 'app/link'));
      fs.chmodSync(path.join(ctx, 'app/sub'), 0o700);
      fs.chmodSync(path.join(ctx, 'app/index.html'), 0o600);
    },
  },
  {
    name: 'WORKDIR, ENV, USER and ADD of a local archive',
    files: {
      Dockerfile: `FROM ${BASE}
ENV APP=/opt/app
WORKDIR $APP/work
ADD bundle.tar.gz /opt/app/
RUN echo "$APP" > env.txt && mkdir -p rel/dir
WORKDIR rel
RUN pwd > /pwd.txt
`,
    },
    setup: (ctx) => {
      const src = path.join(ctx, 'bundle-src');
      writeFiles(src, { 'lib/x.so.txt': 'x\n', 'bin/run': '#!/bin/sh\n' });
      fs.chmodSync(path.join(src, 'bin/run'), 0o755);
      makeTarGz(src, path.join(ctx, 'bundle.tar.gz'));
      fs.rmSync(src, { recursive: true });
    },
  },
  {
    name: 'user xattrs and special modes of context files',
    files: {
      Dockerfile: `FROM ${BASE}
COPY setuid-tool /usr/local/bin/
COPY sticky/ /sticky/
RUN chmod 4755 /usr/local/bin/setuid-tool && mkdir /t && chmod 1777 /t
`,
      'setuid-tool': '#!/bin/sh\n',
      'sticky/f': 'f\n',
    },
    setup: (ctx) => fs.chmodSync(path.join(ctx, 'sticky'), 0o1777),
  },
];

/** GNU tar writes the archive (the test user's numeric owners): the owners ADD must keep. */
function makeTarGz(src: string, out: string): void {
  execFileSync('tar', ['-C', src, '--sort=name', '-czf', out, '.'], { stdio: 'pipe' });
}

async function buildBoth(c: Case): Promise<{ nbuildTree: Map<string, TreeEntry>; buildahTree: Map<string, TreeEntry> }> {
  const ctx = tempDir('diff-ctx');
  writeFiles(ctx, c.files);
  c.setup?.(ctx);
  const out = tempDir('diff-out');
  const nOut = path.join(out, 'nbuild.tar');
  const r = await nbuild(['--root', nStore, 'build', '--progress', 'plain', '-o', `type=oci,dest=${nOut}`, ctx]);
  if (r.code !== 0) throw new Error(`nbuild failed (${r.code}):\n${r.stderr.slice(-3000)}`);
  const tag = `localhost/diff-${Math.random().toString(36).slice(2, 8)}:latest`;
  try {
    await run('buildah', [...buildahArgs(), 'bud', '--layers=false', '--network', 'host', '-q', '-t', tag, '-f', path.join(ctx, 'Dockerfile'), ctx], { maxBuffer: 1 << 26, env: buildahEnv() });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`buildah failed: ${(e.stderr ?? e.message).slice(-3000)}`);
  }
  const bOut = path.join(out, 'buildah.tar');
  await run('buildah', [...buildahArgs(), 'push', '-q', tag, `oci-archive:${bOut}`], { maxBuffer: 1 << 26, env: buildahEnv() });
  const flatten = (file: string): Map<string, TreeEntry> => {
    const a = openOciArchive(file);
    return flattenLayers(a.manifest.layers.map((l) => a.blob(l.digest)));
  };
  return { nbuildTree: flatten(nOut), buildahTree: flatten(bOut) };
}

for (const c of CASES) {
  const register = c.failing && (ready || inCi) ? test.serial.failing : maybe;
  register(`nbuild and buildah make the same tree: ${c.name}`, async (t) => {
    t.timeout(15 * 60 * 1000);
    t.true(ready, `needs ${DEBIAN} and buildah`);
    if (!ready) return;
    const { nbuildTree, buildahTree } = await buildBoth(c);
    const lines = diffTrees(nbuildTree, buildahTree);
    const unexplained = lines.filter((l) => !KNOWN_BUILDAH_DEVIATIONS.some((d) => d.explains(l)));
    const explained = lines.length - unexplained.length;
    if (explained) t.log(`${explained} difference(s) explained by buildah's known deviations`);
    t.deepEqual(unexplained, [], `nbuild (-) vs buildah (+):\n${unexplained.slice(0, 80).join('\n')}`);
    t.true(nbuildTree.size > 1000, 'the trees were read');
  });
}
