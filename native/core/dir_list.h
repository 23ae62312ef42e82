// Lists folders of the build context for its walk (src/context/tree.ts): each folder's entries
// with their lstat fields and symlink targets, sorted as JavaScript sorts strings, plus one
// sha256 of the whole listing. Which folders to list, and what .dockerignore keeps, is decided in
// TypeScript; this is the syscalls only (readdir, fstatat, readlinkat), off the JS thread.
#pragma once
#include <string>
#include <vector>

namespace nb {

struct ListedEntry {
  std::string name;
  // As Node's fs.Stats gives them (doubles; times in ms, sec * 1e3 + nsec / 1e6), so the stat
  // cache's identity strings come out the same as from fs.lstat.
  double mode = 0, dev = 0, ino = 0, size = 0, mtimeMs = 0, ctimeMs = 0;
  std::string link;  // a symlink's target
};

struct DirListing {
  std::vector<ListedEntry> entries;
  // sha256 of (name, mode, dev, ino, size, mtime and ctime in ns, link target) of every entry:
  // the same digest means the same listing, so an unchanged folder is one comparison.
  std::string digest;
};

struct DirListings {
  std::vector<DirListing> dirs;
  double newestCtimeMs = 0;  // of all entries listed (the racy-entry check of a cached summary)
};

// Lists each of `dirs` (absolute paths; symlinks on the way are followed, as readdir does).
DirListings listDirs(const std::vector<std::string>& dirs);

}  // namespace nb
