// Reads a layer blob (gzip, zstd or plain tar, told apart by magic bytes) and hands out the
// tar bytes. Threads share the work:
//   - the decoder reads the blob and decompresses it into 1 MiB chunks;
//   - two hashers take the sha256 of the tar (diff_id) and of the blob (digest), each in
//     order, from the same chunks (no copy);
//   - the caller (the tar parser) reads the chunks, and may keep references to them (the
//     extractor's file writers pwrite straight from them).
// Chunks come from fixed pools and are reference counted: a chunk is reused once the parser,
// the hasher and any writer are done with it, so memory stays bounded whatever the layer size.
//
// gzip: each member is first tried with libdeflate (2-3x zlib's speed) into a 1 MiB chunk,
// which fits every member nbuild's own multi-member writer makes; the first member that does
// not fit (a foreign single-stream layer) switches the rest of the blob to streaming inflate,
// through the zlib node itself exports when it has one (Chromium's, with SIMD), else our own.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/sha256.h"

namespace nb {

class ChunkPool;

struct Chunk {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;  // bytes filled
  std::atomic<int> refs{0};
  ChunkPool* pool = nullptr;
};

// A counted reference to a pooled chunk; the last one returns the chunk to its pool.
class ChunkRef {
 public:
  ChunkRef() = default;
  explicit ChunkRef(Chunk* c) : c_(c) {}  // takes over a reference already counted
  ChunkRef(const ChunkRef& o) : c_(o.c_) {
    if (c_) c_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  ChunkRef(ChunkRef&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  ChunkRef& operator=(ChunkRef o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~ChunkRef() { reset(); }
  void reset();
  Chunk* get() const { return c_; }
  Chunk* operator->() const { return c_; }
  explicit operator bool() const { return c_ != nullptr; }

 private:
  Chunk* c_ = nullptr;
};

// At most `count` chunks of `cap` bytes, allocated on first need and recycled.
class ChunkPool {
 public:
  ChunkPool(size_t count, size_t cap) : count_(count), cap_(cap) {}
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;
  ChunkRef acquire();  // blocks while all are in use; throws CANCELLED once stopped
  void stop();
  size_t cap() const { return cap_; }

 private:
  friend class ChunkRef;
  void put(Chunk* c);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Chunk>> all_;
  std::vector<Chunk*> free_;
  size_t count_, cap_;
  bool stop_ = false;
};

class LayerReader {
 public:
  // checksums: verify the codec's own checksums (zstd's XXH64). A caller that checks the
  // diff_id (a sha256 of every decoded byte) can leave that out.
  explicit LayerReader(const std::string& path, bool checksums = true);
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;
  // Fills exactly n bytes; false at a clean end of stream before any byte.
  bool read(uint8_t* dst, size_t n);
  // Up to max bytes without copying: *p points into the current chunk, which stays valid
  // until the next call, or for as long as a reference from currentChunk() is kept.
  size_t view(const uint8_t** p, size_t max);
  ChunkRef currentChunk() const { return cur_; }
  void skip(uint64_t n);
  // Called on the parser's thread before it waits for the next chunk.
  void setWaitHook(std::function<void()> f) { waitHook_ = std::move(f); }
  // Reads what is left (tar padding after the end blocks) and waits for both hashes.
  void drain();
  std::string blobDigest() const { return blobDigest_; }
  std::string diffId() const { return diffId_; }
  uint64_t blobSize() const { return blobSize_; }
  uint64_t tarSize() const { return tarSize_; }
  // What the magic bytes said: "gzip", "zstd" or "none" (a plain tar); valid after drain().
  const char* compression() const { return compression_; }

 private:
  enum class Hash { Blob, Tar };
  bool fetch();  // next chunk into cur_, false at end
  void produce();
  void hashLoop(int which);
  void pushTar(ChunkRef&& c);
  void pushHash(const ChunkRef& c, Hash h);
  ChunkRef readChunk();  // the next piece of the blob (size 0 at its end), queued for hashing
  void produceGzip(ChunkRef first);
  void produceZlib(std::vector<uint8_t>& in, size_t pos, size_t have, bool eof);
  void produceZstd(ChunkRef first);
  size_t readFile(uint8_t* dst, size_t n);

  std::string path_;
  UniqueFd fd_;
  std::atomic<uint64_t> blobSize_{0}, tarSize_{0};
  std::string blobDigest_, diffId_;
  bool plain_ = false;
  const char* compression_ = "none";
  bool checksums_;

  // Declared before anything holding references, so they are destroyed last.
  ChunkPool inPool_, outPool_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChunkRef> queue_;  // tar chunks for the parser
  std::deque<ChunkRef> hashQueue_[2];  // the tar's chunks, the blob's
  bool ended_ = false, stop_ = false;
  int hashed_ = 0;  // hashers done
  std::optional<EngineError> error_;

  ChunkRef cur_;
  size_t curPos_ = 0;
  std::function<void()> waitHook_;
  std::thread thread_, tarHasher_, blobHasher_;
};

}  // namespace nb
