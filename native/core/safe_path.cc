#include "core/safe_path.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <deque>

#include "core/error.h"

namespace nb {

namespace {

constexpr int kMaxSymlinks = 40;

std::string join(const std::vector<std::string>& c, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; i++) s += (i ? "/" : "") + c[i];
  return s;
}

UniqueFd dupFd(int fd) {
  UniqueFd d(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!d.valid()) throwSys("fcntl", "");
  return d;
}

}  // namespace

std::vector<std::string> splitEntryName(const std::string& name) {
  if (!name.empty() && name[0] == '/') throwBad("ABSOLUTE", "layer entry has an absolute name", name);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t slash = name.find('/', pos);
    if (slash == std::string::npos) slash = name.size();
    std::string c = name.substr(pos, slash - pos);
    if (c == "..") throwBad("ESCAPE", "layer entry climbs out of the root", name);
    if (!c.empty() && c != ".") out.push_back(c);
    pos = slash + 1;
  }
  return out;
}

UniqueFd RootResolver::openDir(const std::vector<std::string>& comps, size_t n, bool create) const {
  if (n == 0) return dupFd(root_);
  // Fast path: the kernel resolves beneath the root in one call. It refuses (EXDEV) any
  // absolute symlink too, so those and missing parents go through the careful walk.
  struct open_how how {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  std::string rel = join(comps, n);
  long fd = syscall(SYS_openat2, root_, rel.c_str(), &how, sizeof how);
  if (fd >= 0) return UniqueFd(int(fd));
  return walk(comps, n, create);
}

// Component by component with O_NOFOLLOW; each symlink met is read and its target spliced
// into the remaining components, from the root when it is absolute.
UniqueFd RootResolver::walk(const std::vector<std::string>& comps, size_t n, bool create) const {
  std::deque<std::string> todo(comps.begin(), comps.begin() + long(n));
  std::vector<UniqueFd> stack;
  stack.push_back(dupFd(root_));
  std::string shown = join(comps, n);
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (stack.size() > 1) stack.pop_back();
      else if (above_ == AboveRoot::Refuse) throwBad("ESCAPE", "a symlink in the layer points outside the root", shown);
      continue;
    }
    int dir = stack.back().get();
    UniqueFd next(openat(dir, c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid() && errno == ENOENT && create) {
      if (mkdirat(dir, c.c_str(), 0755) != 0 && errno != EEXIST) throwSys("mkdirat", rootPath_ + "/" + shown);
      next.reset(openat(dir, c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!next.valid()) throwSys("openat", rootPath_ + "/" + shown);
    struct stat st;
    if (fstat(next.get(), &st) != 0) throwSys("fstat", rootPath_ + "/" + shown);
    if (S_ISDIR(st.st_mode)) {
      stack.push_back(std::move(next));
    } else if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) throwSysErr(ELOOP, "openat", rootPath_ + "/" + shown);
      char buf[4096];
      ssize_t len = readlinkat(next.get(), "", buf, sizeof buf);
      if (len < 0) throwSys("readlinkat", rootPath_ + "/" + shown);
      std::string target(buf, size_t(len));
      if (!target.empty() && target[0] == '/') stack.resize(1);
      std::deque<std::string> parts;
      size_t pos = 0;
      while (pos <= target.size()) {
        size_t s = target.find('/', pos);
        if (s == std::string::npos) s = target.size();
        parts.push_back(target.substr(pos, s - pos));
        pos = s + 1;
      }
      todo.insert(todo.begin(), parts.begin(), parts.end());
    } else {
      throwSysErr(ENOTDIR, "openat", rootPath_ + "/" + shown);
    }
  }
  return std::move(stack.back());
}

int openInRoot(int rootFd, const std::string& rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, rootFd, rel.empty() ? "." : rel.c_str(), &how, sizeof how));
}

void removeAllAt(int dirFd, const std::string& name, const std::string& path) {
  struct stat st;
  if (fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throwSys("fstatat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throwSys("openat", path);
    std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(fd), closedir);
    if (!d) {
      close(fd);
      throwSys("fdopendir", path);
    }
    std::vector<std::string> names;
    while (dirent* de = readdir(d.get()))
      if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, "..")) names.emplace_back(de->d_name);
    for (const auto& n : names) removeAllAt(dirfd(d.get()), n, path + "/" + n);
    if (unlinkat(dirFd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) throwSys("unlinkat", path);
    return;
  }
  if (unlinkat(dirFd, name.c_str(), 0) != 0 && errno != ENOENT) throwSys("unlinkat", path);
}

}  // namespace nb
