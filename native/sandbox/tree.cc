#include "sandbox/tree.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <set>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/merged_view.h"
#include "core/overlay.h"
#include "sandbox/util.h"

namespace nbs {
namespace {

using Xattrs = std::map<std::string, std::string>;

std::string join(const std::string& a, const std::string& b) { return b.empty() ? a : a + "/" + b; }

using nb::isWhiteoutDevice;

Xattrs readXattrs(const std::string& path) {
  Xattrs out;
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  if (n <= 0) return out;
  std::string names(static_cast<size_t>(n), '\0');
  n = llistxattr(path.c_str(), names.data(), names.size());
  if (n <= 0) return out;
  for (size_t i = 0; i < static_cast<size_t>(n);) {
    std::string name(names.c_str() + i);
    i += name.size() + 1;
    if (nb::isOverlayXattr(name)) continue;
    ssize_t vn = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vn < 0) continue;
    std::string value(static_cast<size_t>(vn), '\0');
    vn = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vn >= 0) out[name] = value.substr(0, static_cast<size_t>(vn));
  }
  return out;
}

std::vector<std::string> listDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (!d) throwErrno("opendir " + path);
  while (struct dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

void removeAll(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) < 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path.c_str(), 0700);  // a read-only dir of the image must still be emptied
    for (const auto& n : listDir(path)) removeAll(path + "/" + n);
    if (rmdir(path.c_str()) < 0) throwErrno("rmdir " + path);
  } else if (unlink(path.c_str()) < 0) {
    throwErrno("unlink " + path);
  }
}

namespace {

void copyData(const std::string& from, const std::string& to, mode_t mode) {
  UniqueFd in(open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in.valid()) throwErrno("open " + from);
  UniqueFd out(open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777));
  if (!out.valid()) throwErrno("create " + to);
  // A reflink where the file system can, else in-kernel copying.
  if (ioctl(out.get(), FICLONE, in.get()) < 0) {
    for (;;) {
      ssize_t n = copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
      if (n == 0) break;
      if (n > 0) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) throwErrno("copy " + from);
      char buf[1 << 16];
      ssize_t r;
      while ((r = read(in.get(), buf, sizeof buf)) > 0) writeAll(out.get(), buf, static_cast<size_t>(r));
      if (r < 0) throwErrno("read " + from);
      break;
    }
  }
}

// Ownership, mode, xattrs and times of `st`/`from` onto `to` (times last: they are what changes).
void copyMeta(const std::string& from, const struct stat& st, const std::string& to) {
  if (lchown(to.c_str(), st.st_uid, st.st_gid) < 0) throwErrno("chown " + to);
  if (!S_ISLNK(st.st_mode) && chmod(to.c_str(), st.st_mode & 07777) < 0) throwErrno("chmod " + to);
  for (const auto& [name, value] : readXattrs(from))
    if (lsetxattr(to.c_str(), name.c_str(), value.data(), value.size(), 0) < 0 && errno != ENOTSUP && errno != EPERM)
      throwErrno("setxattr " + name + " " + to);
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  if (utimensat(AT_FDCWD, to.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) throwErrno("utimes " + to);
}

// Creates a copy of the non-directory `from` at `to` (which must not exist).
void copyLeaf(const std::string& from, const struct stat& st, const std::string& to, TreeStats& stats) {
  if (S_ISREG(st.st_mode)) {
    copyData(from, to, st.st_mode);
    stats.bytes += static_cast<unsigned long long>(st.st_size);
  } else if (S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    ssize_t n = readlink(from.c_str(), buf, sizeof buf);
    if (n < 0) throwErrno("readlink " + from);
    if (symlink(std::string(buf, static_cast<size_t>(n)).c_str(), to.c_str()) < 0) throwErrno("symlink " + to);
  } else if (mknod(to.c_str(), st.st_mode, st.st_rdev) < 0) {
    throwErrno("mknod " + to);
  }
  stats.files++;
  copyMeta(from, st, to);
}

// Copies the whole tree at `from` to `to`; whiteouts in a lower layer are skipped (applied by the caller).
void copyTree(const std::string& from, const struct stat& st, const std::string& to, TreeStats& stats) {
  if (!S_ISDIR(st.st_mode)) return copyLeaf(from, st, to, stats);
  if (mkdir(to.c_str(), 0700) < 0) throwErrno("mkdir " + to);
  stats.dirs++;
  for (const auto& n : listDir(from)) {
    struct stat cst;
    if (lstat((from + "/" + n).c_str(), &cst) < 0) throwErrno("lstat " + from + "/" + n);
    if (isWhiteoutDevice(cst)) continue;
    copyTree(from + "/" + n, cst, to + "/" + n, stats);
  }
  copyMeta(from, st, to);
}

// One layer applied onto dest like an extraction of its tar.
void applyLayer(const std::string& layer, const std::string& dest, const std::string& rel, TreeStats& stats) {
  const std::string dir = join(layer, rel);
  for (const auto& n : listDir(dir)) {
    const std::string src = dir + "/" + n, dst = join(dest, join(rel, n));
    struct stat st, dt;
    if (lstat(src.c_str(), &st) < 0) throwErrno("lstat " + src);
    bool exists = lstat(dst.c_str(), &dt) == 0;
    if (isWhiteoutDevice(st)) {
      if (exists) removeAll(dst);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (exists && (!S_ISDIR(dt.st_mode) || nb::isOpaqueDir(src))) {
        removeAll(dst);
        exists = false;
      }
      if (!exists) {
        if (mkdir(dst.c_str(), 0700) < 0) throwErrno("mkdir " + dst);
        stats.dirs++;
      }
      applyLayer(layer, dest, join(rel, n), stats);
      copyMeta(src, st, dst);
      continue;
    }
    if (exists) removeAll(dst);
    copyLeaf(src, st, dst, stats);
  }
}

std::string linkTarget(const std::string& p) {
  char buf[PATH_MAX];
  ssize_t n = readlink(p.c_str(), buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

bool sameMeta(const struct stat& a, const struct stat& b) {
  return a.st_mode == b.st_mode && a.st_uid == b.st_uid && a.st_gid == b.st_gid;
}

bool sameEntry(const std::string& sp, const struct stat& s, const std::string& bp, const struct stat& b) {
  if (!sameMeta(s, b) || s.st_rdev != b.st_rdev) return false;
  if (!S_ISDIR(s.st_mode) &&
      (s.st_size != b.st_size || s.st_mtim.tv_sec != b.st_mtim.tv_sec || s.st_mtim.tv_nsec != b.st_mtim.tv_nsec))
    return false;
  if (S_ISLNK(s.st_mode) && linkTarget(sp) != linkTarget(bp)) return false;
  return readXattrs(sp) == readXattrs(bp);
}

struct Differ {
  nb::MergedView base;
  std::string snap, upper;
  TreeStats stats;
  std::set<std::string> madeDirs;

  // Makes upper/rel and its parents exist, with the snapshot's metadata.
  void ensureUpperDir(const std::string& rel) {
    if (rel.empty() || madeDirs.count(rel)) return;
    auto slash = rel.rfind('/');
    ensureUpperDir(slash == std::string::npos ? "" : rel.substr(0, slash));
    const std::string to = upper + "/" + rel;
    if (mkdir(to.c_str(), 0700) < 0 && errno != EEXIST) throwErrno("mkdir " + to);
    madeDirs.insert(rel);
    stats.dirs++;
  }

  void finishDir(const std::string& rel) {
    if (!madeDirs.count(rel)) return;
    struct stat st;
    if (lstat((snap + "/" + rel).c_str(), &st) < 0) throwErrno("lstat " + rel);
    copyMeta(snap + "/" + rel, st, upper + "/" + rel);
  }

  void whiteout(const std::string& rel) {
    auto slash = rel.rfind('/');
    ensureUpperDir(slash == std::string::npos ? "" : rel.substr(0, slash));
    if (nb::makeWhiteoutDevice(upper + "/" + rel) < 0) throwErrno("whiteout " + rel);
    stats.whiteouts++;
  }

  void walk(const std::string& rel) {
    std::set<std::string> baseNames = base.list(rel);
    for (const auto& n : listDir(join(snap, rel))) {
      const std::string crel = join(rel, n), sp = snap + "/" + crel;
      baseNames.erase(n);
      struct stat s, b;
      std::string bp;
      if (lstat(sp.c_str(), &s) < 0) throwErrno("lstat " + sp);
      bool inBase = base.lookup(crel, b, bp);
      if (inBase && S_ISDIR(s.st_mode) && S_ISDIR(b.st_mode)) {
        if (!sameMeta(s, b) || readXattrs(sp) != readXattrs(bp)) ensureUpperDir(crel);
        walk(crel);
        finishDir(crel);
        continue;
      }
      if (inBase && sameEntry(sp, s, bp, b)) continue;
      ensureUpperDir(rel);
      // A new directory replacing a lower non-dir hides it; its whole content is new.
      copyTree(sp, s, upper + "/" + crel, stats);
    }
    // Deletions are always per-entry whiteouts: a plain copy cannot tell `rm -rf d; mkdir d`
    // (which the kernel overlay records as an opaque dir) from emptying d; both read the same.
    for (const auto& gone : baseNames) whiteout(join(rel, gone));
  }
};

}  // namespace

TreeStats materialize(const std::vector<std::string>& lowersTopFirst, const std::string& dest) {
  TreeStats stats;
  if (mkdir(dest.c_str(), 0755) < 0 && errno != EEXIST) throwErrno("mkdir " + dest);
  for (auto it = lowersTopFirst.rbegin(); it != lowersTopFirst.rend(); ++it) {
    applyLayer(*it, dest, "", stats);
    struct stat st;
    if (lstat(it->c_str(), &st) == 0) copyMeta(*it, st, dest);
  }
  return stats;
}

TreeStats diffTree(const std::vector<std::string>& lowersTopFirst, const std::string& snapshot, const std::string& upper) {
  if (mkdir(upper.c_str(), 0755) < 0 && errno != EEXIST) throwErrno("mkdir " + upper);
  Differ d{nb::MergedView{lowersTopFirst}, snapshot, upper, {}, {}};
  d.walk("");
  return d.stats;
}

}  // namespace nbs
