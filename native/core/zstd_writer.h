// zstd with libzstd's own worker threads. nbWorkers is always >= 1: zstd's multi-threaded
// format is the same for any worker count, but differs from its single-threaded mode, so
// threads=1 and threads=N give the same bytes.
#pragma once
#include <vector>

#include "core/sink.h"

struct ZSTD_CCtx_s;

namespace nb {

class ZstdWriter : public Sink {
 public:
  ZstdWriter(Sink& out, int level, unsigned threads);
  ~ZstdWriter() override;
  void write(const uint8_t* data, size_t len) override;
  void finish() override;

 private:
  void pump(const uint8_t* data, size_t len, int mode);
  Sink& out_;
  ZSTD_CCtx_s* cctx_;
  std::vector<uint8_t> outBuf_;
};

}  // namespace nb
