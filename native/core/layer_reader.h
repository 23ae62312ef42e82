// Reads a layer blob (gzip, zstd or plain tar, told apart by magic bytes) and hands out the
// tar bytes. Reading, hashing the blob and decompressing run on a second thread, a bounded
// queue ahead of the tar parser, so decompression overlaps with the file writes.
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
  void skip(uint64_t n);
  // Reads what is left (tar padding after the end blocks) so both hashes cover everything.
  void drain();
  std::string blobDigest() { return blobDigest_; }
  std::string diffId() { return tarSha_.finishHex(); }
  uint64_t blobSize() const { return blobSize_; }
  uint64_t tarSize() const { return tarSize_; }

 private:
  bool fetch();  // next chunk into cur_, false at end
  void produce();
  void push(std::vector<uint8_t>&& chunk);
  void produceGzip(std::vector<uint8_t>& in, size_t have);
  void produceZstd(std::vector<uint8_t>& in, size_t have);
  size_t readFile(uint8_t* dst, size_t n);

  std::string path_;
  UniqueFd fd_;
  Sha256 blobSha_, tarSha_;
  std::string blobDigest_;
  uint64_t blobSize_ = 0, tarSize_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<uint8_t>> queue_;
  bool ended_ = false, stop_ = false;
  std::optional<EngineError> error_;

  std::vector<uint8_t> cur_;
  size_t curPos_ = 0;
  std::thread thread_;
};

}  // namespace nb
