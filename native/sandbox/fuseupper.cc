// `nbuild-sandbox fuse-upper`: turns the upper dir that fuse-overlayfs left into the overlay format
// the layer writer reads (what the kernel overlay writes with `userxattr`):
//   - opaque dirs: fuse-overlayfs marks them with `user.fuseoverlayfs.opaque` (or
//     `trusted.overlay.opaque` as real root) plus `.wh..wh..opq` and a 0/0 `.wh..opq`; they become
//     `user.overlay.opaque=y` alone. fuse-overlayfs also marks every new dir opaque; where no lower
//     layer has that path the mark means nothing, and it is dropped (the kernel never sets it).
//   - whiteouts: 0/0 character devices stay; `.wh.NAME` files (its fallback when mknod is refused)
//     become 0/0 devices.
//   - its own xattrs (`user.fuseoverlayfs.*`, `trusted.overlay.*`) are removed everywhere.
// JSON `{upper, lowerDirs}` on stdin, one JSON line on stdout (like materialize/diff).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "core/merged_view.h"
#include "core/overlay.h"
#include "sandbox/json.h"
#include "sandbox/tree.h"
#include "sandbox/util.h"

namespace nbs {
namespace {

using nb::isWhiteoutDevice;

std::vector<std::string> xattrNames(const std::string& path) {
  std::vector<std::string> names;
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  if (n <= 0) return names;
  std::string buf(static_cast<size_t>(n), '\0');
  n = llistxattr(path.c_str(), buf.data(), buf.size());
  if (n < 0) return names;
  for (size_t i = 0; i < static_cast<size_t>(n);) {
    std::string name(buf.c_str() + i);
    i += name.size() + 1;
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// Removes fuse-overlayfs' own xattrs; true when one of them said "opaque".
bool stripMarks(const std::string& path) {
  bool opaque = false;
  for (const auto& name : xattrNames(path)) {
    if (!startsWith(name, nb::kFuseXattrPrefix) && !startsWith(name, "trusted.overlay.") && name != nb::kUserOpaqueXattr)
      continue;
    if (name == nb::kFuseOpaqueXattr || nb::isOpaqueXattr(name)) {
      char v[8];
      ssize_t n = lgetxattr(path.c_str(), name.c_str(), v, sizeof v);
      if (n >= 1 && v[0] == 'y') opaque = true;
    }
    if (lremovexattr(path.c_str(), name.c_str()) < 0 && errno != ENODATA) throwErrno("remove xattr " + name + " of " + path);
  }
  return opaque;
}

void walk(const std::string& upper, const std::string& rel, const std::vector<std::string>& lowers, TreeStats& stats) {
  std::string dir = rel.empty() ? upper : upper + "/" + rel;
  std::vector<std::string> names;
  {
    DIR* d = opendir(dir.c_str());
    if (!d) throwErrno("open " + dir);
    while (struct dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
  }
  bool opaque = stripMarks(dir);
  for (const auto& n : names) {
    std::string full = dir + "/" + n;
    struct stat st;
    if (lstat(full.c_str(), &st) < 0) throwErrno("stat " + full);
    if (nb::isOpaque(n) || (n == nb::kFuseOpaqueMarker && isWhiteoutDevice(st))) {
      if (nb::isOpaque(n)) opaque = true;
      if (unlink(full.c_str()) < 0) throwErrno("remove " + full);
      continue;
    }
    if (nb::isWhiteout(n)) {
      std::string target = dir + "/" + nb::whiteoutTarget(n);
      if (unlink(full.c_str()) < 0) throwErrno("remove " + full);
      if (nb::makeWhiteoutDevice(target) < 0 && errno != EEXIST) throwErrno("whiteout " + target);
      stats.whiteouts++;
      continue;
    }
    std::string childRel = rel.empty() ? n : rel + "/" + n;
    if (S_ISDIR(st.st_mode)) {
      walk(upper, childRel, lowers, stats);
    } else {
      stripMarks(full);
      if (isWhiteoutDevice(st)) stats.whiteouts++;
      else stats.files++;
    }
  }
  stats.dirs++;
  if (opaque && !rel.empty() && nb::MergedView{lowers}.has(rel)) {
    if (nb::markOpaque(dir) < 0) throwErrno("mark " + dir + " opaque");
  }
}

}  // namespace

int fuseUpperMain() {
  return runTreeCommand([](const Json& j) {
    TreeStats st;
    walk(j.getString("upper"), "", j.getStrings("lowerDirs"), st);
    return st;
  });
}

}  // namespace nbs
