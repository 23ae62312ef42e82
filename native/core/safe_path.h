// Opening paths inside an extraction root so that nothing outside it can be reached:
// names are split into components, ".." and absolute names are refused up front, and
// symlinks met on the way are resolved as if the root were "/" (an image's absolute
// symlinks, e.g. merged-/usr "lib -> usr/lib", keep working). A link that climbs above the root
// is refused (a layer), or stays at the root as ".." does at "/" (an ADD archive, unpacked as in
// a chroot at its destination, as BuildKit does).
#pragma once
#include <string>
#include <vector>

#include "core/fd.h"

namespace nb {

// Splits a tar entry name into components; throws ESCAPE / ABSOLUTE for hostile names.
// "./a//b/" → {"a","b"}; "." or "./" → {}.
std::vector<std::string> splitEntryName(const std::string& name);

class RootResolver {
 public:
  enum class AboveRoot { Refuse, StayAtRoot };
  RootResolver(int rootFd, std::string rootPath, AboveRoot above = AboveRoot::Refuse)
      : root_(rootFd), rootPath_(std::move(rootPath)), above_(above) {}
  // An O_PATH fd of the directory holding comps[0..n-1], creating missing directories
  // (mode 0755) when `create` is set, as tar does for implicit parents.
  UniqueFd openDir(const std::vector<std::string>& comps, size_t n, bool create) const;

 private:
  UniqueFd walk(const std::vector<std::string>& comps, size_t n, bool create) const;
  int root_;
  std::string rootPath_;
  AboveRoot above_;
};

// Opens `rel` below `rootFd` as in a chroot there (the kernel's RESOLVE_IN_ROOT): every symlink
// resolves with the root as "/", ".." stops at it, no magic links; O_CLOEXEC is added. The same
// rule as RootResolver's StayAtRoot, without creating anything. Returns -1 with errno set.
int openInRoot(int rootFd, const std::string& rel, int flags);

// Removes a file or a whole tree below dirFd; a missing name is not an error.
void removeAllAt(int dirFd, const std::string& name, const std::string& pathForErrors);

}  // namespace nb
