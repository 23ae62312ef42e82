// Tar stream → complete entries (PAX and GNU long-name records folded in).
#pragma once
#include <optional>

#include "core/layer_reader.h"
#include "core/tar_format.h"

namespace nb {

class TarReader {
 public:
  explicit TarReader(LayerReader& in) : in_(in) {}
  // The next entry, or nothing at the end of the archive. Its data must be consumed with
  // readData/skipData before the next call.
  std::optional<TarEntry> next();
  LayerReader& input() { return in_; }
  void skipData();  // the rest of the current entry's data and padding
  size_t readData(uint8_t* dst, size_t n);  // up to n bytes of the current entry's data
  // Up to n bytes of the current entry's data without copying (see LayerReader::view).
  size_t viewData(const uint8_t** p, size_t n);
  // The chunk the last viewData pointed into, kept alive for as long as the reference is held.
  ChunkRef dataChunk() const { return in_.currentChunk(); }

 private:
  std::string readBody(uint64_t size);
  LayerReader& in_;
  uint64_t left_ = 0, pad_ = 0;
};

}  // namespace nb
