// The end of the writer pipeline: the blob file, hashed as it is written (the layer digest).
#pragma once
#include <string>
#include <vector>

#include "core/fd.h"
#include "core/sha256.h"
#include "core/sink.h"

namespace nb {

class FileSink : public Sink {
 public:
  explicit FileSink(const std::string& path);
  void write(const uint8_t* data, size_t len) override;
  void finish() override;
  uint64_t size() const { return size_; }
  std::string digest() { return sha_.finishHex(); }

 private:
  void flush();
  std::string path_;
  UniqueFd fd_;
  Sha256 sha_;
  std::vector<uint8_t> buf_;
  uint64_t size_ = 0;
};

// Hashes what passes through (the diff_id of the tar) and forwards it.
class HashingSink : public Sink {
 public:
  explicit HashingSink(Sink& next) : next_(next) {}
  void write(const uint8_t* data, size_t len) override {
    sha_.update(data, len);
    size_ += len;
    next_.write(data, len);
  }
  void finish() override { next_.finish(); }
  uint64_t size() const { return size_; }
  std::string digest() { return sha_.finishHex(); }

 private:
  Sink& next_;
  Sha256 sha_;
  uint64_t size_ = 0;
};

}  // namespace nb
