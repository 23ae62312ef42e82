#include "core/zstd_writer.h"

#include <zstd.h>

#include "core/error.h"

namespace nb {

static void check(size_t rc, const char* what) {
  if (ZSTD_isError(rc)) throw EngineError("COMPRESSION", std::string("zstd ") + what + ": " + ZSTD_getErrorName(rc));
}

ZstdWriter::ZstdWriter(Sink& out, int level, unsigned threads) : out_(out), cctx_(ZSTD_createCCtx()) {
  if (!cctx_) throw EngineError("ENOMEM", "zstd: cannot create context");
  check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level), "level");
  check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1), "checksum");
  check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, int(threads ? threads : 1)), "nbWorkers");
  outBuf_.resize(ZSTD_CStreamOutSize());
}

ZstdWriter::~ZstdWriter() { ZSTD_freeCCtx(cctx_); }

void ZstdWriter::pump(const uint8_t* data, size_t len, int mode) {
  ZSTD_inBuffer in{data, len, 0};
  for (;;) {
    ZSTD_outBuffer out{outBuf_.data(), outBuf_.size(), 0};
    size_t rem = ZSTD_compressStream2(cctx_, &out, &in, ZSTD_EndDirective(mode));
    check(rem, "compress");
    if (out.pos) out_.write(outBuf_.data(), out.pos);
    if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size) break;
  }
}

void ZstdWriter::write(const uint8_t* data, size_t len) { pump(data, len, ZSTD_e_continue); }

void ZstdWriter::finish() {
  pump(nullptr, 0, ZSTD_e_end);
  out_.finish();
}

}  // namespace nb
