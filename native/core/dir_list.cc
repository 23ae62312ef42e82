#include "core/dir_list.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/fd.h"
#include "core/read_buffer.h"
#include "core/sha256.h"

namespace nb {

namespace {

double msOf(const timespec& t) { return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6; }

// A name as UTF-16 code units, as V8 decodes it (an invalid byte becomes U+FFFD), so the sort
// below is Array.prototype.sort's order: code units, not bytes (they differ above U+FFFF).
std::u16string utf16(const std::string& s) {
  std::u16string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      out.push_back(char16_t(c));
      i++;
      continue;
    }
    int len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool ok = len > 0 && i + size_t(len) <= n;
    for (int k = 1; ok && k < len; k++) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (ok && ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))) ok = false;
    if (!ok) {
      out.push_back(u'\uFFFD');
      i++;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(char16_t(0xD800 + (cp >> 10)));
      out.push_back(char16_t(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(char16_t(cp));
    }
    i += size_t(len);
  }
  return out;
}

bool allAscii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

void sortLikeJs(std::vector<ListedEntry>& entries) {
  bool ascii = std::all_of(entries.begin(), entries.end(), [](const ListedEntry& e) { return allAscii(e.name); });
  if (ascii) {  // the usual case: byte order is code unit order
    std::sort(entries.begin(), entries.end(), [](const ListedEntry& a, const ListedEntry& b) { return a.name < b.name; });
    return;
  }
  std::vector<std::pair<std::u16string, size_t>> keys;
  keys.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); i++) keys.emplace_back(utf16(entries[i].name), i);
  std::sort(keys.begin(), keys.end());
  std::vector<ListedEntry> sorted;
  sorted.reserve(entries.size());
  for (auto& k : keys) sorted.push_back(std::move(entries[k.second]));
  entries = std::move(sorted);
}

void put64(std::string& b, uint64_t v) { b.append(reinterpret_cast<const char*>(&v), sizeof v); }

// Opens the folders of one call. A call's folders are mostly siblings (the walk hands them out
// breadth first), so each is opened relative to its parent's descriptor, kept while the parent is
// the same: the kernel then resolves one name instead of every component of the path (path
// lookups were ~8% of a copy-many listing's samples). The same folder as open(path) gives: the
// parent resolves as it would within the path, the last name too (a symlink followed, as before).
class FolderOpener {
 public:
  int open(const std::string& dir) {
    size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == dir.size()) return openWhole(dir);
    if (!parent_.valid() || parentPath_.compare(0, std::string::npos, dir, 0, slash) != 0) {
      parentPath_.assign(dir, 0, slash);
      parent_.reset(::open(parentPath_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!parent_.valid()) return openWhole(dir);  // its own error names the folder
    }
    return ::openat(parent_.get(), dir.c_str() + slash + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }

 private:
  static int openWhole(const std::string& dir) { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }
  std::string parentPath_;
  UniqueFd parent_;
};

DirListing listOne(const std::string& dir, FolderOpener& opener, double& newestCtimeMs) {
  UniqueFd fd(opener.open(dir));
  if (!fd.valid()) throwSys("open", dir);
  int dfd = fd.get();
  DirListing out;
  // getdents64 into the thread's read buffer: readdir's fdopendir added an fstat and an fcntl
  // per folder, and its 32 KiB buffer a call per ~1,000 names.
  uint8_t* buf = threadReadBuffer();
  for (;;) {
    ssize_t n = getdents64(dfd, buf, kReadBufferSize);
    if (n < 0) throwSys("readdir", dir);
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + at);
      at += e->d_reclen;
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      ListedEntry le;
      le.name = e->d_name;
      out.entries.push_back(std::move(le));
    }
  }
  sortLikeJs(out.entries);
  // What the digest covers, gathered and hashed once per folder (an update per field was
  // 250,000 calls for copy-many).
  std::string summed;
  summed.reserve(out.entries.size() * 96);
  for (ListedEntry& le : out.entries) {
    struct stat st {};
    if (fstatat(dfd, le.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;  // before the path is built
      throwSysErr(err, "lstat", dir + "/" + le.name);
    }
    le.mode = double(st.st_mode);
    le.dev = double(st.st_dev);
    le.ino = double(st.st_ino);
    le.size = double(st.st_size);
    le.mtimeMs = msOf(st.st_mtim);
    le.ctimeMs = msOf(st.st_ctim);
    if (le.ctimeMs > newestCtimeMs) newestCtimeMs = le.ctimeMs;
    if (S_ISLNK(st.st_mode)) {
      std::string target(size_t(st.st_size) + 1, '\0');
      for (;;) {
        ssize_t n = readlinkat(dfd, le.name.c_str(), target.data(), target.size());
        if (n < 0) {
          int err = errno;
          throwSysErr(err, "readlink", dir + "/" + le.name);
        }
        if (size_t(n) < target.size()) {
          target.resize(size_t(n));
          break;
        }
        target.resize(target.size() * 2);  // the link changed since fstatat
      }
      le.link = std::move(target);
    }
    summed.append(le.name.c_str(), le.name.size() + 1);  // with its NUL: names never contain one
    put64(summed, uint64_t(st.st_mode));
    put64(summed, uint64_t(st.st_dev));
    put64(summed, uint64_t(st.st_ino));
    put64(summed, uint64_t(st.st_size));
    put64(summed, uint64_t(st.st_mtim.tv_sec));
    put64(summed, uint64_t(st.st_mtim.tv_nsec));
    put64(summed, uint64_t(st.st_ctim.tv_sec));
    put64(summed, uint64_t(st.st_ctim.tv_nsec));
    put64(summed, uint64_t(le.link.size()));
    summed += le.link;
  }
  Sha256 h;
  h.update(summed.data(), summed.size());
  out.digest = h.finishHex();
  return out;
}

}  // namespace

DirListings listDirs(const std::vector<std::string>& dirs) {
  DirListings r;
  r.dirs.reserve(dirs.size());
  FolderOpener opener;
  for (const std::string& dir : dirs) r.dirs.push_back(listOne(dir, opener, r.newestCtimeMs));
  return r;
}

}  // namespace nb
