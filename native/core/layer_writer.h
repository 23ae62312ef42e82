// Directory (an overlay upper dir or a plain tree) → tar → gzip|zstd|none → blob file,
// with the tar's sha256 (diff_id) and the blob's sha256 (digest) from the same pass.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/file_hash.h"
#include "core/idmap.h"
#include "core/tar_format.h"

namespace nb {

enum class Compression { Gzip, Zstd, None };

// An entry of the layer that is not in sourceDir (a COPY from the context puts its files in the
// layer without writing them to a staging tree first: one read of each file). A file's bytes are
// read from `source` as the tar is written; a folder's entries are the sourced ones below it.
struct SourcedFile {
  EntryType type = EntryType::File;  // File, Dir or Symlink
  std::string source;    // absolute: a file's bytes, a file's or folder's xattrs; "" for none
  std::string linkname;  // a symlink's target
  uint64_t size = 0;     // a file's entry size: bytes past it are not read, missing ones are zeros
  uint32_t mode = 0, uid = 0, gid = 0;  // ids as the tree's files have them (mapped by idMap)
  int64_t mtime = 0;
  bool hash = false;  // report the sha256 of a file's bytes (LayerResult::hashed)
  // A file with more than one link: its source's inode (0 otherwise). The first of an inode in
  // the walk is the file, the others hard links to it, as for the tree's own files.
  dev_t dev = 0;
  ino_t ino = 0;
};

struct WriteOptions {
  std::string sourceDir, outputPath;
  bool overlayUpper = false;
  Compression compression = Compression::Gzip;
  int level = 6;
  bool gzipMembers = false;  // libdeflate, one gzip member per 1 MiB block
  unsigned threads = 1;
  IdMap idMap;
  std::optional<int64_t> clampMtime;
  std::set<std::string> exclude;  // relative paths, no leading or trailing '/'
  std::vector<SourcedFile> sourced;
  // Where each sourced file goes: its folder (relative, "" for the root) → name → index in `sourced`.
  std::map<std::string, std::map<std::string, size_t>> sourcedIn;
};

struct LayerResult {
  std::string digest, diffId;
  uint64_t size = 0, uncompressedSize = 0;
  // The sourced files that asked for it: index in WriteOptions::sourced → digest of their bytes.
  std::vector<std::pair<size_t, HashedCopy>> hashed;
};

LayerResult writeLayer(const WriteOptions& o);

// The digest (and size) of the uncompressed tar writeLayer would make of o.sourceDir, with
// nothing written (outputPath, compression and threads are ignored): `store check` compares an
// unpacked layer with a fresh extraction of its blob by this.
LayerResult digestTree(const WriteOptions& o);

// A layer blob (gzip, zstd or plain tar) re-encoded as o.compression into o.outputPath,
// streamed chunk by chunk (o.sourceDir is not used): the tar, hence the diff_id, is unchanged,
// the blob digest and size are new. `force-compression=true` of image outputs.
LayerResult recompressLayer(const std::string& inputPath, const WriteOptions& o);

}  // namespace nb
