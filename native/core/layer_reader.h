// Reads a layer blob (gzip, zstd or plain tar, told apart by magic bytes) and hands out the
// tar bytes. Reading, hashing the blob, decompressing and (except on the slow zlib path)
// hashing the tar run on a second thread, a bounded queue ahead of the tar parser, so
// decompression and hashing overlap with the file writes.
//
// gzip: each member is first tried with libdeflate (2-3x zlib's speed) into a 1 MiB buffer,
// which fits every member nbuild's own multi-member writer makes; the first member that does
// not fit (a foreign single-stream layer) switches the rest of the blob to streaming inflate,
// through the zlib node itself exports when it has one (Chromium's, with SIMD), else our own.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/sha256.h"

namespace nb {

class LayerReader {
 public:
  explicit LayerReader(const std::string& path);
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;
  // Fills exactly n bytes; false at a clean end of stream before any byte.
  bool read(uint8_t* dst, size_t n);
  // Up to max bytes without copying: *p points into the current chunk until the next call.
  // 0 only at the end of the stream.
  size_t view(const uint8_t** p, size_t max);
  void skip(uint64_t n);
  // Reads what is left (tar padding after the end blocks) so both hashes cover everything.
  void drain();
  std::string blobDigest() { return blobDigest_; }
  std::string diffId() { return tarSha_.finishHex(); }
  uint64_t blobSize() const { return blobSize_; }
  uint64_t tarSize() const { return tarSize_; }

 private:
  struct Chunk {
    std::vector<uint8_t> data;
    bool hashed = false;  // tar hash already updated by the producer
  };
  bool fetch();  // next chunk into cur_, false at end
  void produce();
  void push(std::vector<uint8_t>&& chunk, bool hash);
  std::vector<uint8_t> buffer(size_t n);  // a spent chunk's memory when there is one
  void produceGzip(std::vector<uint8_t>& in, size_t have);
  void produceZlib(std::vector<uint8_t>& in, size_t pos, size_t have);
  void produceZstd(std::vector<uint8_t>& in, size_t have);
  size_t readFile(uint8_t* dst, size_t n);

  std::string path_;
  UniqueFd fd_;
  Sha256 blobSha_, tarSha_;
  std::string blobDigest_;
  uint64_t blobSize_ = 0, tarSize_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;
  // Chunks the parser is done with, reused by the producer: large buffers freed and
  // allocated again would be mmap/munmap and page faults every time.
  std::vector<std::vector<uint8_t>> spare_;
  bool ended_ = false, stop_ = false;
  std::optional<EngineError> error_;

  std::vector<uint8_t> cur_;
  size_t curPos_ = 0;
  std::thread thread_;
};

}  // namespace nb
