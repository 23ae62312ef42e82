// BuildKit's frontend/dockerfile/exclude_patterns_test.go, ported (see README.md).
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bkBuildLocal, writeContext } from './harness.js';
import { tempDir } from '../helpers/nbuild-cli.js';

// testExcludedFilesOnCopy verifies that COPY --exclude and ADD --exclude glob
// patterns correctly filter out matching files during a Dockerfile build, while
// preserving non-matching files with their expected content.
// See #4439
// BuildKit runs the checks twice: on a plain folder (here) and on a git context served over
// HTTP (not ported: nbuild has no git sources; README.md).
test('testExcludedFilesOnCopy', async (t) => {
  const srcDir = tempDir('bk-ctx');
  for (const d of ['dir1', 'dir2', 'dir3', 'dir4']) fs.mkdirSync(path.join(srcDir, d), { mode: 0o777 });
  writeContext(srcDir, {
    'dir1/file-101.png': { content: '2', mode: 0o600 },
    'dir1/file-102.txt': { content: '3', mode: 0o600 },
    'dir1/file-103.jpeg': { content: '4', mode: 0o600 },
    'dir2/file-201.pdf': { content: '6', mode: 0o600 },
    'dir2/file-202.jpeg': { content: '7', mode: 0o600 },
    'dir2/file-203.png': { content: '8', mode: 0o600 },
    'dir3/file-301.mp3': { content: '9', mode: 0o600 },
    'dir3/file-302.mpeg': { content: '10', mode: 0o600 },
    'dir4/file-401.txt': { content: '11', mode: 0o600 },
    'dir4/file-402.txt': { symlink: 'file-401.txt' },
    'dir4/file-403.txt': { symlink: 'file-404.txt' },
  });

  const runTest = async (dockerfile: string): Promise<void> => {
    const destDir = await bkBuildLocal({ dockerfile, context: srcDir, separateDockerfile: true });
    const testCases: { filename: string; excluded: boolean; expectedContent?: string }[] = [
      // Files copied with COPY command
      { filename: 'builder1/1/dir1/file-101.png', excluded: true },
      { filename: 'builder1/1/dir1/file-102.txt', excluded: false, expectedContent: '3' },
      { filename: 'builder1/1/dir1/file-103.jpeg', excluded: true },
      { filename: 'builder1/1/dir2/file-201.pdf', excluded: false, expectedContent: '6' },
      { filename: 'builder1/1/dir2/file-202.jpeg', excluded: true },
      { filename: 'builder1/1/dir2/file-203.png', excluded: true },
      { filename: 'builder1/1/dir3/file-301.mp3', excluded: false, expectedContent: '9' },
      { filename: 'builder1/1/dir3/file-302.mpeg', excluded: false, expectedContent: '10' },
      { filename: 'builder1/1/dir4/file-401.txt', excluded: false, expectedContent: '11' },
      { filename: 'builder1/1/dir4/file-402.txt', excluded: false, expectedContent: 'file-401.txt' },
      { filename: 'builder1/1/dir4/file-403.txt', excluded: false, expectedContent: 'file-404.txt' },
      // files copied with COPY command
      { filename: 'builder2/2/dir1/file-101.png', excluded: false, expectedContent: '2' },
      { filename: 'builder2/2/dir1/file-102.txt', excluded: true },
      { filename: 'builder2/2/dir1/file-103.jpeg', excluded: false, expectedContent: '4' },
      { filename: 'builder2/2/dir2/file-201.pdf', excluded: true },
      { filename: 'builder2/2/dir2/file-202.jpeg', excluded: false, expectedContent: '7' },
      { filename: 'builder2/2/dir2/file-203.png', excluded: false, expectedContent: '8' },
      { filename: 'builder2/2/dir3/file-301.mp3', excluded: false, expectedContent: '9' },
      { filename: 'builder2/2/dir3/file-302.mpeg', excluded: false, expectedContent: '10' },
      { filename: 'builder2/2/dir4/file-401.txt', excluded: true },
      { filename: 'builder2/2/dir4/file-402.txt', excluded: true },
      { filename: 'builder2/2/dir4/file-403.txt', excluded: true },
      // Files copied with ADD command
      { filename: 'builder3/3/file-301.mp3', excluded: true },
      { filename: 'builder3/3/file-302.mpeg', excluded: false, expectedContent: '10' },
      // Files copied with COPY wildcard
      { filename: 'builder4/4/file-101.png', excluded: true },
      { filename: 'builder4/4/file-102.txt', excluded: true },
      { filename: 'builder4/4/file-103.jpeg', excluded: true },
      { filename: 'builder4/4/file-201.pdf', excluded: true },
      { filename: 'builder4/4/file-202.jpeg', excluded: true },
      { filename: 'builder4/4/file-203.png', excluded: true },
      { filename: 'builder4/4/file-301.mp3', excluded: true },
      { filename: 'builder4/4/file-301.mp3', excluded: true },
      { filename: 'builder4/4/file-302.mpeg', excluded: false, expectedContent: '10' },
      { filename: 'builder4/4/dir4/file-401.txt', excluded: true },
      { filename: 'builder4/4/dir4/file-402.txt', excluded: true },
      { filename: 'builder4/4/dir4/file-403.txt', excluded: true },
      // Files copied with ADD wildcard
      { filename: 'builder5/5/file-101.png', excluded: true },
      { filename: 'builder5/5/file-102.txt', excluded: false, expectedContent: '3' },
      { filename: 'builder5/5/file-103.jpeg', excluded: true },
      { filename: 'builder5/5/file-201.pdf', excluded: true },
      { filename: 'builder5/5/file-202.jpeg', excluded: true },
      { filename: 'builder5/5/file-203.png', excluded: true },
      { filename: 'builder5/5/file-301.mp3', excluded: true },
      { filename: 'builder5/5/file-301.mp3', excluded: true },
      { filename: 'builder5/5/file-302.mpeg', excluded: true },
      { filename: 'builder5/5/file-401.txt', excluded: false, expectedContent: '11' },
      { filename: 'builder5/5/file-402.txt', excluded: false, expectedContent: 'file-401.txt' },
      { filename: 'builder5/5/file-403.txt', excluded: false, expectedContent: 'file-404.txt' },
    ];
    for (const tc of testCases) {
      const fpath = path.join(destDir, tc.filename);
      const st = fs.lstatSync(fpath, { throwIfNoEntry: false });
      if (tc.excluded) {
        t.is(st, undefined, `File ${tc.filename} should not exist`);
        continue;
      }
      if (!st) {
        t.fail(`File ${tc.filename} is missing`);
        continue;
      }
      const dt = st.isSymbolicLink() ? fs.readlinkSync(fpath) : fs.readFileSync(fpath, 'utf8');
      t.is(dt, tc.expectedContent ?? "", `File ${tc.filename} does not have matched content`);
    }
    // As all files are excluded, the directory must be empty
    t.deepEqual(fs.readdirSync(path.join(destDir, 'builder6/6')), []);
  };

  // First, test with reading from a plain directory
  await runTest(`
# ignore all the image files
FROM scratch as builder1
COPY --exclude=*/*.png --exclude=*/*.jpeg . /1

# ignore all document files
FROM scratch as builder2
COPY --exclude=*/*.pdf --exclude=*/*.txt . /2

# ignore all mp3 files
FROM scratch as builder3
ADD --exclude=*.mp3 dir3/ /3/

# Ignore everything, keeping only .mpeg files, using src as a wildcard.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder4
COPY --exclude=*.mp3 --exclude=*.jpeg --exclude=*.png --exclude=*.pdf --exclude=*.txt dir* /4/

# Ignore everything, keeping only txt files.
# it's a fake example, just to be sure that src as wildcards work as expected.
FROM scratch as builder5
ADD --exclude=*.mp* --exclude=*.jpeg --exclude=*.png --exclude=*.pdf dir* /5

# Exclude all files. No idea how it could be useful, but it should not be forbidden.
FROM scratch as builder6
ADD --exclude=* dir* /6

FROM scratch
COPY --from=builder1 / /builder1
COPY --from=builder2 / /builder2
COPY --from=builder3 / /builder3
COPY --from=builder4 / /builder4
COPY --from=builder5 / /builder5
COPY --from=builder6 / /builder6
`);
});
