// Builds the context folder of one buildah conformance case the way upstream's
// test does (README step 1-3): copy the context, apply `contextSetup`,
// recreate the omitted script files, write the Dockerfile, fix the mtimes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { BuildahCase, SetupOp, TarSpec } from './buildah-cases.js';

export interface PreparedContext {
  contextDir: string;
  dockerfile: string;
}

export function prepareContext(buildahDir: string, c: BuildahCase, text: string, dest: string, testDate: number): PreparedContext {
  fs.mkdirSync(dest, { recursive: true });
  if (c.contextDir) {
    execFileSync('cp', ['-a', path.join(buildahDir, c.contextDir) + '/.', dest]);
    // The shared data is read-only (0444/0555); upstream builds from a git
    // checkout, where the same files are 0644/0755.
    execFileSync('chmod', ['-R', 'u+w', dest]);
  }
  const dockerfileRel = c.dockerfile ?? 'Dockerfile';
  for (const f of c.omittedContextFiles ?? []) writeFile(dest, f.path, f.content, f.mode);
  for (const op of c.contextSetup ?? []) applyOp(dest, op);
  if (c.name.startsWith('mount-targets') || c.contextDir?.endsWith('mount-targets')) {
    // Upstream compiles a Go no-op into mount-targets/true; busybox-static
    // called as `true` is a static no-op too.
    fs.copyFileSync('/bin/busybox', path.join(dest, 'true'));
    fs.chmodSync(path.join(dest, 'true'), 0o755);
  }
  const dockerfile = path.join(dest, dockerfileRel);
  fs.mkdirSync(path.dirname(dockerfile), { recursive: true });
  fs.writeFileSync(dockerfile, text);
  fs.utimesSync(dockerfile, testDate, testDate);
  fs.utimesSync(dest, testDate, testDate);
  return { contextDir: dest, dockerfile };
}

function writeFile(root: string, rel: string, content: string, mode: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode: parseInt(mode, 8) });
}

function applyOp(root: string, op: SetupOp): void {
  const target = path.join(root, op.path);
  switch (op.op) {
    case 'mkdir':
      fs.mkdirSync(target, { recursive: true, mode: parseInt(op.mode, 8) });
      break;
    case 'writeFile':
      writeFile(root, op.path, op.content, op.mode);
      break;
    case 'lchown':
      fs.lchownSync(target, op.uid, op.gid);
      break;
    case 'chmod':
      fs.chmodSync(target, parseInt(op.mode, 8));
      break;
    case 'chtimes':
      fs.utimesSync(target, op.atime, op.mtime);
      break;
    case 'lsetxattr':
      python(`import os,sys,json\nfor k,v in json.loads(sys.argv[2]).items(): os.setxattr(sys.argv[1],k,v.encode(),follow_symlinks=False)`, target, JSON.stringify(op.xattrs));
      break;
    case 'writeTar':
      writeTar(target, op.entries);
      fs.chmodSync(target, parseInt(op.mode, 8));
      break;
  }
}

/** Python's tarfile writes the owners and PAX records Node has no API for. */
function writeTar(file: string, entries: TarSpec[]): void {
  python(
    `import io,json,sys,tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    for e in json.loads(sys.argv[2]):
        i = tarfile.TarInfo(e['name'])
        i.mode = int(e['mode'], 8); i.uid = e['uid']; i.gid = e['gid']; i.mtime = e['mtime']
        i.pax_headers = e.get('paxRecords') or {}
        if e['type'] == 'dir':
            i.type = tarfile.DIRTYPE; t.addfile(i)
        else:
            data = e.get('content', '').encode(); i.size = len(data); t.addfile(i, io.BytesIO(data))`,
    file,
    JSON.stringify(entries),
  );
}

function python(script: string, ...args: string[]): void {
  execFileSync('python3', ['-c', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}
