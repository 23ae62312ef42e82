#include "core/tree_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/overlay.h"
#include "core/xattrs.h"

namespace nb {

namespace {

constexpr size_t kChunk = 1 << 20;
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
  tar_.write(kZeros, 512);
  tar_.write(kZeros, 512);
}

// Children are ordered by the name they get in the tar (a whiteout "x" sorts as ".wh.x",
// an opaque folder's marker as ".wh..wh..opq"), so the archive is in byte order throughout.
void TreeWalker::walkDir(const std::string& rel, bool opaque, int64_t mtime) {
  std::string dir = rel.empty() ? o_.sourceDir : abs(rel);
  struct Child {
    std::string key, name;
    struct stat st;
  };
  std::vector<Child> children;
  for (std::string& name : sortedNames(dir)) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (o_.exclude.count(child)) continue;
    Child c{name, std::move(name), {}};
    if (lstat(abs(child).c_str(), &c.st) != 0) throwSys("lstat", abs(child));
    if (isDeletion(c.st)) c.key = whiteoutName(c.key);
    children.push_back(std::move(c));
  }
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
    emitPath(rel.empty() ? c.name : rel + "/" + c.name, c.st);
  }
}

bool TreeWalker::isDeletion(const struct stat& st) const {
  return o_.overlayUpper && isWhiteoutDevice(st);
}

void TreeWalker::setOwner(TarEntry& e, const struct stat& st, const std::string& path) {
  auto uid = hostToContainer(o_.idMap.uids, st.st_uid);
  auto gid = hostToContainer(o_.idMap.gids, st.st_gid);
  if (!uid || !gid) throwBad("ID_UNMAPPED", "owner " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + " is outside the id mapping", path);
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
  setOwner(e, st, path);
  e.mode = st.st_mode & 07777;
  bool opaque = false;
  readXattrs(path, e, &opaque);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto key = std::make_pair(st.st_dev, st.st_ino);
    auto it = links_.find(key);
    if (it != links_.end()) {
      e.type = EntryType::HardLink;
      e.linkname = it->second;
      emit(e, "");
      return;
    }
    links_.emplace(key, rel);
  }
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
  static thread_local std::vector<uint8_t> buf(kChunk);
  uint64_t left = size;
  while (left) {
    ssize_t n = read(fd.get(), buf.data(), size_t(std::min<uint64_t>(left, kChunk)));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", path);
    }
    if (n == 0) {
      std::fill(buf.begin(), buf.end(), 0);
      n = ssize_t(std::min<uint64_t>(left, kChunk));
    }
    tar_.write(buf.data(), size_t(n));
    left -= uint64_t(n);
  }
  size_t pad = size_t((512 - size % 512) % 512);
  tar_.write(kZeros, pad);
}

}  // namespace nb
