// A byte stream consumer: the tar writer feeds a compressor, which feeds a file.
#pragma once
#include <cstddef>
#include <cstdint>

namespace nb {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const uint8_t* data, size_t len) = 0;
  virtual void finish() = 0;  // flush everything; no write after
};

}  // namespace nb
