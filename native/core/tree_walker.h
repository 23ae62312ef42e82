// Walks a directory tree in a fixed order (names sorted by bytes within each directory,
// parents before children) and emits tar entries with their data.
#pragma once
#include <sys/stat.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/layer_writer.h"
#include "core/sink.h"
#include "core/tar_format.h"

namespace nb {

class TreeWalker {
 public:
  TreeWalker(const WriteOptions& o, Sink& tar) : o_(o), tar_(tar) {}
  void run();  // all entries, then the two zero blocks of the end of archive
  // The digests of the sourced files that asked for one, as they were read.
  std::vector<std::pair<size_t, HashedCopy>>& hashed() { return hashed_; }

 private:
  void walkDir(const std::string& rel, bool opaque, int64_t mtime, bool onDisk = true);
  bool isDeletion(const struct stat& st) const;  // a whiteout device, in an overlay upper
  void emitPath(const std::string& rel, const struct stat& st);
  void emitSourced(const std::string& rel, size_t index);
  bool emittedAsLink(TarEntry& e, dev_t dev, ino_t ino);
  void copySourced(size_t index);
  void emit(TarEntry& e, const std::string& dataPath);
  void copyData(const std::string& path, uint64_t size);
  void readXattrs(const std::string& path, TarEntry& e, bool* opaque);
  void setOwner(TarEntry& e, uint32_t hostUid, uint32_t hostGid, const std::string& path);
  std::string abs(const std::string& rel) const { return o_.sourceDir + "/" + rel; }

  const WriteOptions& o_;
  Sink& tar_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first path of each multi-link inode
  std::vector<std::pair<size_t, HashedCopy>> hashed_;
  size_t emittedSourced_ = 0;
};

}  // namespace nb
