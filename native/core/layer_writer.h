// Directory (an overlay upper dir or a plain tree) → tar → gzip|zstd|none → blob file,
// with the tar's sha256 (diff_id) and the blob's sha256 (digest) from the same pass.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "core/idmap.h"

namespace nb {

enum class Compression { Gzip, Zstd, None };

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
};

struct LayerResult {
  std::string digest, diffId;
  uint64_t size = 0, uncompressedSize = 0;
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
