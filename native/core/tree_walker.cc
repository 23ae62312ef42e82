#include "core/tree_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/overlay.h"
#include "core/read_buffer.h"
#include "core/sha256.h"
#include "core/xattrs.h"

namespace nb {

namespace {

constexpr size_t kChunk = kReadBufferSize;  // what one read() into the thread's buffer takes
const uint8_t kZeros[512] = {};

std::vector<std::string> sortedNames(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) throwSys("opendir", dir);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* de = readdir(d.get())) {
    if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, "..")) names.emplace_back(de->d_name);
    errno = 0;
  }
  if (errno) throwSys("readdir", dir);
  std::sort(names.begin(), names.end());  // std::string compares bytes as unsigned
  return names;
}

}  // namespace

void TreeWalker::run() {
  walkDir("", false, 0);
  // A sourced entry whose folder is neither in the tree nor sourced would be left out silently.
  if (emittedSourced_ != o_.sourced.size()) throwBad("SOURCED_ORPHAN", "a sourced entry's folder is not in the layer", o_.sourceDir);
  tar_.write(kZeros, 512);
  tar_.write(kZeros, 512);
}

// Children are ordered by the name they get in the tar (a whiteout "x" sorts as ".wh.x",
// an opaque folder's marker as ".wh..wh..opq"), so the archive is in byte order throughout.
// `onDisk` false: a sourced folder, whose entries are all sourced.
void TreeWalker::walkDir(const std::string& rel, bool opaque, int64_t mtime, bool onDisk) {
  std::string dir = rel.empty() ? o_.sourceDir : abs(rel);
  struct Child {
    std::string key, name;
    struct stat st;
    size_t sourced = SIZE_MAX;  // an index in o_.sourced: the file is not in the tree
  };
  std::vector<Child> children;
  auto sourcedHere = o_.sourcedIn.find(rel);
  for (std::string& name : onDisk ? sortedNames(dir) : std::vector<std::string>{}) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (o_.exclude.count(child)) continue;
    if (sourcedHere != o_.sourcedIn.end() && sourcedHere->second.count(name))
      throwBad("SOURCED_CONFLICT", "a sourced file is also in the tree", abs(child));
    Child c{name, std::move(name), {}};
    if (lstat(abs(child).c_str(), &c.st) != 0) throwSys("lstat", abs(child));
    if (isDeletion(c.st)) c.key = whiteoutName(c.key);
    children.push_back(std::move(c));
  }
  if (sourcedHere != o_.sourcedIn.end())
    for (const auto& [name, index] : sourcedHere->second) children.push_back(Child{name, name, {}, index});
  if (opaque) children.push_back(Child{kOpaqueWhiteout, "", {}});
  std::sort(children.begin(), children.end(), [](const Child& a, const Child& b) { return a.key < b.key; });
  for (const Child& c : children) {
    if (c.name.empty()) {  // the opaque marker: an empty file, root-owned, mode 0
      TarEntry m;
      m.name = rel + "/" + kOpaqueWhiteout;
      m.mtime = mtime;
      emit(m, "");
      continue;
    }
    std::string child = rel.empty() ? c.name : rel + "/" + c.name;
    if (c.sourced != SIZE_MAX) emitSourced(child, c.sourced);
    else emitPath(child, c.st);
  }
}

bool TreeWalker::isDeletion(const struct stat& st) const {
  return o_.overlayUpper && isWhiteoutDevice(st);
}

void TreeWalker::setOwner(TarEntry& e, uint32_t hostUid, uint32_t hostGid, const std::string& path) {
  auto uid = hostToContainer(o_.idMap.uids, hostUid);
  auto gid = hostToContainer(o_.idMap.gids, hostGid);
  if (!uid || !gid) throwBad("ID_UNMAPPED", "owner " + std::to_string(hostUid) + ":" + std::to_string(hostGid) + " is outside the id mapping", path);
  e.uid = *uid;
  e.gid = *gid;
}

void TreeWalker::emitPath(const std::string& rel, const struct stat& st) {
  std::string path = abs(rel);
  TarEntry e;
  e.name = rel;
  e.mtime = st.st_mtim.tv_sec;
  if (o_.clampMtime && e.mtime > *o_.clampMtime) e.mtime = *o_.clampMtime;
  size_t slash = rel.rfind('/');
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  if (isDeletion(st)) {  // deleted in this layer: an empty ".wh.NAME", owned by root, mode 0
    e.name = rel.substr(0, slash + 1) + whiteoutName(base);
    emit(e, "");
    return;
  }
  // A real file named ".wh.x" would delete x (or hide a folder) wherever the layer is applied:
  // refused, as umoci does (BuildKit writes it as is; docs/security.md).
  if (isWhiteout(base)) throwBad("WHITEOUT_NAME", "a name starting with " + kWhiteoutPrefix + " is a whiteout to every image tool", "/" + rel);
  setOwner(e, st.st_uid, st.st_gid, path);
  e.mode = st.st_mode & 07777;
  bool opaque = false;
  readXattrs(path, e, &opaque);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && emittedAsLink(e, st.st_dev, st.st_ino)) return;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: e.type = EntryType::File; e.size = uint64_t(st.st_size); emit(e, path); return;
    case S_IFLNK: {
      std::vector<char> buf(size_t(st.st_size) + 2);
      ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
      if (n < 0) throwSys("readlink", path);
      e.type = EntryType::Symlink;
      e.linkname.assign(buf.data(), size_t(n));
      emit(e, "");
      return;
    }
    case S_IFDIR: {
      e.type = EntryType::Dir;
      emit(e, "");
      walkDir(rel, opaque, e.mtime);
      return;
    }
    case S_IFCHR: case S_IFBLK:
      e.type = S_ISCHR(st.st_mode) ? EntryType::Char : EntryType::Block;
      e.devMajor = major(st.st_rdev);
      e.devMinor = minor(st.st_rdev);
      emit(e, "");
      return;
    case S_IFIFO: e.type = EntryType::Fifo; emit(e, ""); return;
    default: return;  // sockets cannot be put in a tar; tar and BuildKit skip them too
  }
}

// An inode met before in the walk: `e` is written as a hard link to its first path (true). Else
// `e` (named e.name) becomes that first path.
bool TreeWalker::emittedAsLink(TarEntry& e, dev_t dev, ino_t ino) {
  auto [it, first] = links_.emplace(std::make_pair(dev, ino), e.name);
  if (first) return false;
  e.type = EntryType::HardLink;
  e.linkname = it->second;
  emit(e, "");
  return true;
}

// A sourced entry: the fields the staging would have given it, a file's xattrs and bytes (a
// folder's xattrs) from its source.
void TreeWalker::emitSourced(const std::string& rel, size_t index) {
  const SourcedFile& f = o_.sourced[index];
  emittedSourced_++;
  size_t slash = rel.rfind('/');
  if (isWhiteout(slash == std::string::npos ? rel : rel.substr(slash + 1)))
    throwBad("WHITEOUT_NAME", "a name starting with " + kWhiteoutPrefix + " is a whiteout to every image tool", "/" + rel);
  TarEntry e;
  e.name = rel;
  e.type = f.type;
  e.linkname = f.linkname;
  e.mtime = f.mtime;
  if (o_.clampMtime && e.mtime > *o_.clampMtime) e.mtime = *o_.clampMtime;
  setOwner(e, f.uid, f.gid, "/" + rel);
  e.mode = f.mode & 07777;
  if (!f.source.empty()) e.xattrs = readKeptXattrs(f.source);
  if (f.type == EntryType::File && f.ino != 0 && emittedAsLink(e, f.dev, f.ino)) return;
  if (f.type == EntryType::File) e.size = f.size;
  std::vector<uint8_t> h = encodeHeader(e);
  tar_.write(h.data(), h.size());
  if (f.type == EntryType::File) copySourced(index);
  if (f.type == EntryType::Dir) walkDir(rel, false, e.mtime, false);
}

// Exactly the entry's size, as copyData; the bytes hashed on the way when asked. The digest
// counts only when the whole file was read and its fstat did not change meanwhile.
void TreeWalker::copySourced(size_t index) {
  const SourcedFile& f = o_.sourced[index];
  if (f.size == 0 && !f.hash) return;  // an empty file (or a context socket): nothing to read
  UniqueFd fd(open(f.source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) throwSys("open", f.source);
  struct stat before {};
  if (fstat(fd.get(), &before) != 0) throwSys("fstat", f.source);
  if (!S_ISREG(before.st_mode)) throwBad("NOT_A_FILE", "not a regular file", f.source);
  uint8_t* const buf = threadReadBuffer();
  std::optional<Sha256> sha;
  if (f.hash) sha.emplace();
  uint64_t left = f.size, got = 0;
  while (left) {
    ssize_t n = read(fd.get(), buf, size_t(std::min<uint64_t>(left, kChunk)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", f.source);
    }
    if (n == 0) {
      n = ssize_t(std::min<uint64_t>(left, kChunk));
      std::memset(buf, 0, size_t(n));
    } else {
      if (sha) sha->update(buf, size_t(n));
      got += uint64_t(n);
    }
    tar_.write(buf, size_t(n));
    left -= uint64_t(n);
  }
  tar_.write(kZeros, size_t((512 - f.size % 512) % 512));
  if (!sha) return;
  struct stat after {};
  if (fstat(fd.get(), &after) != 0) throwSys("fstat", f.source);
  HashedCopy r;
  r.hash.digest = sha->finishHex();
  r.hash.size = got;
  r.stable = sameState(before, after) && got == uint64_t(before.st_size) && got == f.size;
  r.identity = identityOf(before);
  hashed_.emplace_back(index, std::move(r));
}

void TreeWalker::readXattrs(const std::string& path, TarEntry& e, bool* opaque) {
  if (o_.overlayUpper && isOpaqueDir(path)) *opaque = true;
  e.xattrs = readKeptXattrs(path);
}

void TreeWalker::emit(TarEntry& e, const std::string& dataPath) {
  std::vector<uint8_t> h = encodeHeader(e);
  tar_.write(h.data(), h.size());
  if (e.type == EntryType::File && e.size) copyData(dataPath, e.size);
}

// Exactly `size` bytes (the size in the header), zero-padded if the file shrank meanwhile.
void TreeWalker::copyData(const std::string& path, uint64_t size) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) throwSys("open", path);
  uint8_t* const buf = threadReadBuffer();
  uint64_t left = size;
  while (left) {
    ssize_t n = read(fd.get(), buf, size_t(std::min<uint64_t>(left, kChunk)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", path);
    }
    if (n == 0) {
      n = ssize_t(std::min<uint64_t>(left, kChunk));
      std::memset(buf, 0, size_t(n));
    }
    tar_.write(buf, size_t(n));
    left -= uint64_t(n);
  }
  size_t pad = size_t((512 - size % 512) % 512);
  tar_.write(kZeros, pad);
}

}  // namespace nb
