// Parallel gzip in the manner of pigz: the input is cut into fixed 128 KiB blocks, each
// deflated on a worker with the previous 32 KiB as dictionary and ended on a byte boundary
// (sync flush), then the pieces are written in order behind one gzip header and the CRCs are
// combined. Block boundaries depend only on the input, so the bytes do not depend on the
// number of threads. Memory: at most 4 blocks per thread (+2) in flight.
#pragma once
#include <memory>
#include <deque>
#include <vector>

#include "core/sink.h"
#include "core/thread_pool.h"

namespace nb {

struct GzipJob;

// Alternative engine (members=true): 1 MiB blocks, each a complete gzip member made by
// libdeflate (2-3x faster than zlib at the same level, no dictionary or flush support).
// Concatenated members are one valid gzip file (RFC 1952 §2.2) that gzip, Go, Python and
// Node read as a whole; some one-shot decoders stop after the first member.
class ParallelGzip : public Sink {
 public:
  ParallelGzip(Sink& out, int level, unsigned threads, bool members = false);
  ~ParallelGzip() override;
  void write(const uint8_t* data, size_t len) override;
  void finish() override;

 private:
  void submit(bool last);
  void drainFront();
  Sink& out_;
  int level_;
  bool members_;
  size_t block_;
  size_t maxInFlight_;
  std::vector<uint8_t> cur_;
  std::vector<uint8_t> dict_;  // last 32 KiB of the previous block
  std::deque<std::shared_ptr<GzipJob>> pending_;
  unsigned long crc_;
  uint64_t total_ = 0;
  ThreadPool pool_;  // last member: joined first on destruction
};

}  // namespace nb
