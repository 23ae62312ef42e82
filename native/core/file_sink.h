// The ends of the writer pipeline, with their hashes: the tar (diff_id) on its way to the
// compressor, and the blob file (digest). Hashing and writing the blob run on one background
// thread (a Hasher), so the thread walking the tree and feeding the compressor does neither:
// data is gathered into 1 MiB buffers, which the background thread hashes (and, for the blob,
// writes out) in order while the caller goes on. At most kBuffers buffers are in flight.
#pragma once
#include <algorithm>
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
#include "core/sink.h"

namespace nb {

class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  // An empty buffer with room for kBuffer bytes; waits while kBuffers are in flight.
  std::vector<uint8_t> take();
  // Hashes buf into sha and, when fd >= 0, writes it to fd; then recycles it.
  void submit(std::vector<uint8_t>&& buf, Sha256* sha, int fd, const std::string* path);
  void give(std::vector<uint8_t>&& buf);  // a taken buffer back, unused
  void wait();  // until every submitted job is done; throws the first error
  void drain() noexcept;  // the same without throwing (sinks' destructors: jobs point into them)
  static constexpr size_t kBuffer = 1 << 20, kBuffers = 8;
  // Appends data to buf, calling flush(true) each time buf fills up to kBuffer.
  template <typename Flush>
  static void append(std::vector<uint8_t>& buf, const uint8_t* data, size_t len, Flush flush) {
    while (len) {
      size_t k = std::min(len, kBuffer - buf.size());
      buf.insert(buf.end(), data, data + k);
      data += k;
      len -= k;
      if (buf.size() == kBuffer) flush(true);
    }
  }

 private:
  struct Job {
    std::vector<uint8_t> buf;
    Sha256* sha;
    int fd;
    const std::string* path;
  };
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<std::vector<uint8_t>> free_;
  size_t inFlight_ = 0;  // taken and not yet recycled
  size_t pending_ = 0;   // submitted and not yet done
  bool stop_ = false;
  std::optional<EngineError> error_;
  std::thread thread_;
};

class FileSink : public Sink {
 public:
  FileSink(const std::string& path, Hasher& hasher);
  ~FileSink() override;
  void write(const uint8_t* data, size_t len) override;
  void finish() override;
  uint64_t size() const { return size_; }
  std::string digest() { return sha_.finishHex(); }

 private:
  void flush(bool more);
  std::string path_;
  UniqueFd fd_;
  Hasher& hasher_;
  Sha256 sha_;
  std::vector<uint8_t> buf_;
  uint64_t size_ = 0;
};

// A file written on the caller's thread and not hashed: the blob of an uncompressed layer is the
// tar itself, whose digest the HashingSink in front of it makes. The caller writes each buffer
// while the Hasher's thread hashes it (both only read it), instead of that thread hashing the tar a
// second time for the blob and writing it too (docs/decisions.md, "the tar hashed once").
class PlainFileSink : public Sink {
 public:
  explicit PlainFileSink(const std::string& path);
  void write(const uint8_t* data, size_t len) override;
  void finish() override;
  uint64_t size() const { return size_; }

 private:
  std::string path_;
  UniqueFd fd_;
  uint64_t size_ = 0;
};

// Hashes what passes through (the diff_id of the tar) and forwards it, in 1 MiB pieces
// (fewer, larger writes for the compressor than the tar writer's headers and padding).
class HashingSink : public Sink {
 public:
  HashingSink(Sink& next, Hasher& hasher);
  ~HashingSink() override;
  void write(const uint8_t* data, size_t len) override;
  void finish() override;
  uint64_t size() const { return size_; }
  std::string digest() { return sha_.finishHex(); }

 private:
  void flush(bool more);
  Sink& next_;
  Hasher& hasher_;
  Sha256 sha_;
  std::vector<uint8_t> buf_;
  uint64_t size_ = 0;
};

}  // namespace nb
