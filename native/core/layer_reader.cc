#include "core/layer_reader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace nb {

namespace {
constexpr size_t kIn = 1 << 20;
constexpr size_t kOut = 256 << 10;
constexpr size_t kQueue = 16;  // chunks ahead of the parser: the memory bound
// libdeflate members: a window of compressed input that always holds kMemberIn bytes ahead
// (unless the file ends first), and the largest member output tried (nbuild writes 1 MiB).
// Deflate never grows data by 2x, so a member of <= kMemberOut fits in kMemberIn of input.
constexpr size_t kWindow = 4 << 20;
constexpr size_t kMemberIn = 2 << 20;
constexpr size_t kMemberOut = 1 << 20;

// Streaming inflate. Node exports its own zlib (Chromium's, with SIMD inflate and CRC), about
// 1.4x faster than Debian's here; decompressed bytes are the same whichever zlib makes them,
// so it is used when present and our static copy otherwise (see docs/decisions.md).
struct Inflate {
  int (*init2)(z_streamp, int, const char*, int) = &::inflateInit2_;
  int (*run)(z_streamp, int) = &::inflate;
  int (*end)(z_streamp) = &::inflateEnd;
  int (*reset)(z_streamp) = &::inflateReset;
};

const Inflate& inflater() {
  static const Inflate f = [] {
    Inflate s;
    if (getenv("NBUILD_OWN_ZLIB")) return s;  // benchmarks compare the two
    void* init2 = dlsym(RTLD_DEFAULT, "inflateInit2_");
    void* run = dlsym(RTLD_DEFAULT, "inflate");
    void* end = dlsym(RTLD_DEFAULT, "inflateEnd");
    void* reset = dlsym(RTLD_DEFAULT, "inflateReset");
    auto version = reinterpret_cast<const char* (*)()>(dlsym(RTLD_DEFAULT, "zlibVersion"));
    if (!init2 || !run || !end || !reset || !version || version()[0] != '1') return s;
    s.init2 = reinterpret_cast<int (*)(z_streamp, int, const char*, int)>(init2);
    s.run = reinterpret_cast<int (*)(z_streamp, int)>(run);
    s.end = reinterpret_cast<int (*)(z_streamp)>(end);
    s.reset = reinterpret_cast<int (*)(z_streamp)>(reset);
    return s;
  }();
  return f;
}
}  // namespace

LayerReader::LayerReader(const std::string& path) : path_(path) {
  fd_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_.valid()) throwSys("open", path);
  posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_ = std::thread([this] { produce(); });
}

LayerReader::~LayerReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

size_t LayerReader::readFile(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd_.get(), dst + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      throwSys("read", path_);
    }
    if (r == 0) break;
    got += size_t(r);
  }
  blobSha_.update(dst, got);
  blobSize_ += got;
  return got;
}

std::vector<uint8_t> LayerReader::buffer(size_t n) {
  std::vector<uint8_t> b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_.empty()) {
      b = std::move(spare_.back());
      spare_.pop_back();
    }
  }
  b.resize(n);
  return b;
}

// hash: the tar hash is taken here, off the file-writing thread (the chunks' order is the
// queue's, and a chunk is hashed either here before it is queued or there after, never both).
void LayerReader::push(std::vector<uint8_t>&& chunk, bool hash) {
  if (hash) {
    tarSha_.update(chunk.data(), chunk.size());
    tarSize_ += chunk.size();
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stop_ || queue_.size() < kQueue; });
  if (stop_) throw EngineError("CANCELLED", "extraction stopped");
  queue_.push_back(Chunk{std::move(chunk), hash});
  cv_.notify_all();
}

void LayerReader::produce() {
  try {
    std::vector<uint8_t> in(kIn);
    size_t have = readFile(in.data(), in.size());
    if (have >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
      produceGzip(in, have);
    } else if (have >= 4 && std::memcmp(in.data(), "\x28\xb5\x2f\xfd", 4) == 0) {
      produceZstd(in, have);
    } else {
      while (have) {
        std::vector<uint8_t> out = buffer(have);
        std::memcpy(out.data(), in.data(), have);
        push(std::move(out), true);
        have = readFile(in.data(), in.size());
      }
    }
    blobDigest_ = blobSha_.finishHex();
  } catch (const EngineError& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = e;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  cv_.notify_all();
}

// Concatenated gzip members are one stream (RFC 1952), as gzip -d and Go's reader treat them.
// Members are decoded whole by libdeflate while they fit kMemberOut; anything else (a larger
// member, a corrupt or truncated one) goes to zlib from that member on, which also names the error.
void LayerReader::produceGzip(std::vector<uint8_t>& in, size_t have) {
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!d) throw EngineError("ENOMEM", "libdeflate_alloc_decompressor failed");
  in.resize(kWindow);
  size_t pos = 0;
  bool eof = have < kIn;
  for (;;) {
    if (!eof && have - pos < kMemberIn) {
      std::memmove(in.data(), in.data() + pos, have - pos);
      have -= pos;
      pos = 0;
      size_t n = readFile(in.data() + have, in.size() - have);
      eof = n < in.size() - have;
      have += n;
    }
    if (pos == have) return;
    std::vector<uint8_t> out = buffer(kMemberOut);
    size_t used = 0, made = 0;
    if (libdeflate_gzip_decompress_ex(d.get(), in.data() + pos, have - pos, out.data(), out.size(), &used, &made) != LIBDEFLATE_SUCCESS)
      return produceZlib(in, pos, have);
    pos += used;
    out.resize(made);
    if (!out.empty()) push(std::move(out), true);
  }
}

void LayerReader::produceZlib(std::vector<uint8_t>& in, size_t pos, size_t have) {
  const Inflate& z = inflater();
  z_stream zs{};
  if (z.init2(&zs, 15 + 16, ZLIB_VERSION, int(sizeof zs)) != Z_OK) throw EngineError("ENOMEM", "inflateInit2 failed");
  struct End { const Inflate& z; z_stream* s; ~End() { z.end(s); } } end{z, &zs};
  zs.next_in = in.data() + pos;
  zs.avail_in = uInt(have - pos);
  for (;;) {
    std::vector<uint8_t> out = buffer(kOut);
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    int rc = z.run(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      throw EngineError("BAD_LAYER", "gzip: " + std::string(zs.msg ? zs.msg : "corrupt data") + ": " + path_, 0, "", path_);
    out.resize(out.size() - zs.avail_out);
    // Inflate is the slow stage here: the tar hash is left to the file-writing thread.
    if (!out.empty()) push(std::move(out), false);
    if (zs.avail_in == 0) {
      have = readFile(in.data(), in.size());
      zs.next_in = in.data();
      zs.avail_in = uInt(have);
      if (have == 0) {
        if (rc != Z_STREAM_END) throw EngineError("BAD_LAYER", "gzip: unexpected end of file: " + path_, 0, "", path_);
        return;
      }
    }
    if (rc == Z_STREAM_END) z.reset(&zs);
  }
}

void LayerReader::produceZstd(std::vector<uint8_t>& in, size_t have) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!d) throw EngineError("ENOMEM", "zstd: cannot create context");
  ZSTD_inBuffer ib{in.data(), have, 0};
  size_t last = 0;
  for (;;) {
    if (ib.pos == ib.size) {
      have = readFile(in.data(), in.size());
      if (have == 0) break;
      ib = ZSTD_inBuffer{in.data(), have, 0};
    }
    std::vector<uint8_t> out = buffer(kOut);
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    last = ZSTD_decompressStream(d.get(), &ob, &ib);
    if (ZSTD_isError(last)) throw EngineError("BAD_LAYER", std::string("zstd: ") + ZSTD_getErrorName(last) + ": " + path_, 0, "", path_);
    out.resize(ob.pos);
    if (!out.empty()) push(std::move(out), true);
  }
  if (last != 0) throw EngineError("BAD_LAYER", "zstd: unexpected end of file: " + path_, 0, "", path_);
}

bool LayerReader::fetch() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !queue_.empty() || ended_; });
  if (queue_.empty()) {
    if (error_) throw *error_;
    return false;
  }
  Chunk c = std::move(queue_.front());
  queue_.pop_front();
  cv_.notify_all();
  if (cur_.capacity() && spare_.size() < 4) spare_.push_back(std::move(cur_));
  lock.unlock();
  cur_ = std::move(c.data);
  curPos_ = 0;
  if (!c.hashed) {
    tarSha_.update(cur_.data(), cur_.size());
    tarSize_ += cur_.size();
  }
  return true;
}

bool LayerReader::read(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (curPos_ == cur_.size() && !fetch()) {
      if (got == 0) return false;
      throw EngineError("BAD_LAYER", "tar: unexpected end of layer: " + path_, 0, "", path_);
    }
    size_t k = std::min(n - got, cur_.size() - curPos_);
    std::memcpy(dst + got, cur_.data() + curPos_, k);
    curPos_ += k;
    got += k;
  }
  return true;
}

size_t LayerReader::view(const uint8_t** p, size_t max) {
  while (curPos_ == cur_.size())
    if (!fetch()) return 0;
  size_t k = std::min(max, cur_.size() - curPos_);
  *p = cur_.data() + curPos_;
  curPos_ += k;
  return k;
}

void LayerReader::skip(uint64_t n) {
  while (n) {
    if (curPos_ == cur_.size() && !fetch()) throw EngineError("BAD_LAYER", "tar: unexpected end of layer: " + path_, 0, "", path_);
    size_t k = size_t(std::min<uint64_t>(n, cur_.size() - curPos_));
    curPos_ += k;
    n -= k;
  }
}

void LayerReader::drain() {
  curPos_ = cur_.size();
  while (fetch()) curPos_ = cur_.size();
}

}  // namespace nb
