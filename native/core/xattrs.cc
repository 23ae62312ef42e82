#include "core/xattrs.h"

#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace nb {

namespace {
bool startsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }
}  // namespace

bool keepXattr(const std::string& k) {
  if (startsWith(k, "user.overlay.") || startsWith(k, "trusted.overlay.")) return false;
  return startsWith(k, "user.") || k == "security.capability";
}

std::map<std::string, std::string> readKeptXattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    throwSys("llistxattr", path);
  }
  if (n == 0) return out;
  std::vector<char> names(size_t(n) + 1);
  n = llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) throwSys("llistxattr", path);
  for (ssize_t at = 0; at < n; at += ssize_t(std::strlen(names.data() + at)) + 1) {
    std::string k(names.data() + at);
    if (!keepXattr(k)) continue;
    ssize_t len = lgetxattr(path.c_str(), k.c_str(), nullptr, 0);
    if (len < 0) throwSys("lgetxattr", path);
    std::string val(size_t(len), '\0');
    len = lgetxattr(path.c_str(), k.c_str(), val.data(), val.size());
    if (len < 0) throwSys("lgetxattr", path);
    val.resize(size_t(len));
    out[k] = val;
  }
  return out;
}

void copyKeptXattrs(const std::string& src, const std::string& dst) {
  for (const auto& [k, v] : readKeptXattrs(src)) {
    if (lsetxattr(dst.c_str(), k.c_str(), v.data(), v.size(), 0) != 0 && errno != ENOTSUP && errno != EPERM)
      throwSys("lsetxattr", dst);
  }
}

}  // namespace nb
