// One 1 MiB read buffer per thread, left uninitialised: reading a small file into it touches (and
// faults in) only its first page. A zero-filled std::vector faulted in all 256 pages on each pool
// thread's first file: 5-10 ms on this VM for a rebuild that rehashes one touched 100-byte file
// (docs/decisions.md, "Cached steps looked up in place").
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace nb {

constexpr size_t kReadBufferSize = size_t(1) << 20;

inline uint8_t* threadReadBuffer() {
  thread_local std::unique_ptr<uint8_t[]> buf(new uint8_t[kReadBufferSize]);
  return buf.get();
}

}  // namespace nb
