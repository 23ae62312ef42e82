#include "core/layer_reader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <libdeflate.h>
#include <unistd.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_d_forceIgnoreChecksum
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace nb {

namespace {
constexpr size_t kIn = 1 << 20;    // blob read size
constexpr size_t kOut = 1 << 20;   // tar chunk size
// The memory bound: tar chunks ahead of (or held by) the parser, the hasher and the file
// writer, and blob chunks read but not yet hashed.
constexpr size_t kOutChunks = 32;
constexpr size_t kInChunks = 8;
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


void ChunkRef::reset() {
  if (c_ && c_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) c_->pool->put(c_);
  c_ = nullptr;
}

ChunkRef ChunkPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stop_ || !free_.empty() || all_.size() < count_; });
  if (stop_) throw EngineError("CANCELLED", "extraction stopped");
  Chunk* c;
  if (!free_.empty()) {
    c = free_.back();
    free_.pop_back();
  } else {
    all_.push_back(std::make_unique<Chunk>());
    c = all_.back().get();
    c->data.reset(new uint8_t[cap_]);
    c->pool = this;
  }
  c->size = 0;
  c->refs.store(1, std::memory_order_relaxed);
  return ChunkRef(c);
}

void ChunkPool::put(Chunk* c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(c);
  }
  cv_.notify_one();
}

void ChunkPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

LayerReader::LayerReader(const std::string& path, bool checksums) : path_(path), checksums_(checksums), inPool_(kInChunks, kIn), outPool_(kOutChunks, kOut) {
  fd_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd_.valid()) throwSys("open", path);
  posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_ = std::thread([this] { produce(); });
  tarHasher_ = std::thread([this] { hashLoop(0); });
  blobHasher_ = std::thread([this] { hashLoop(1); });
}

LayerReader::~LayerReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  inPool_.stop();
  outPool_.stop();
  thread_.join();
  tarHasher_.join();
  blobHasher_.join();
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
  blobSize_ += got;
  return got;
}

ChunkRef LayerReader::readChunk() {
  ChunkRef c = inPool_.acquire();
  c->size = readFile(c->data.get(), inPool_.cap());
  if (c->size) pushHash(c, Hash::Blob);
  return c;
}

void LayerReader::pushHash(const ChunkRef& c, Hash h) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    hashQueue_[h == Hash::Blob].push_back(c);
  }
  cv_.notify_all();
}

// The tar chunk goes to the tar hasher (diff_id) and to the parser; whichever is done last
// frees it.
void LayerReader::pushTar(ChunkRef&& c) {
  if (!c || c->size == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hashQueue_[0].push_back(c);
    queue_.push_back(std::move(c));
  }
  cv_.notify_all();
}

// One thread per hash (queue 0: the tar, queue 1: the blob), so neither waits for the other.
void LayerReader::hashLoop(int which) {
  pthread_setname_np(pthread_self(), which ? "nb-hash-blob" : "nb-hash-tar");
  Sha256 sha;
  uint64_t size = 0;
  std::deque<ChunkRef>& q = hashQueue_[which];
  for (;;) {
    ChunkRef c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !q.empty() || ended_; });
      if (stop_) return;
      if (q.empty()) break;  // ended_ and nothing left
      c = std::move(q.front());
      q.pop_front();
    }
    sha.update(c->data.get(), c->size);
    size += c->size;
  }
  std::string hex = sha.finishHex();
  std::lock_guard<std::mutex> lock(mu_);
  if (which) {
    blobDigest_ = hex;
  } else {
    diffId_ = hex;
    tarSize_ = size;
  }
  hashed_++;
  cv_.notify_all();
}

void LayerReader::produce() {
  pthread_setname_np(pthread_self(), "nb-decode");
  try {
    ChunkRef first = inPool_.acquire();
    first->size = readFile(first->data.get(), inPool_.cap());
    const uint8_t* in = first->data.get();
    size_t have = first->size;
    if (have >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
      compression_ = "gzip";
      pushHash(first, Hash::Blob);
      produceGzip(std::move(first));
    } else if (have >= 4 && std::memcmp(in, "\x28\xb5\x2f\xfd", 4) == 0) {
      compression_ = "zstd";
      pushHash(first, Hash::Blob);
      produceZstd(std::move(first));
    } else {
      // Plain tar: the blob is the tar, hashed once. Read straight into tar chunks.
      plain_ = true;
      ChunkRef out = outPool_.acquire();
      std::memcpy(out->data.get(), in, have);
      out->size = have;
      first.reset();
      for (;;) {
        bool full = out->size == outPool_.cap();
        pushTar(std::move(out));
        if (!full) break;
        out = outPool_.acquire();
        out->size = readFile(out->data.get(), outPool_.cap());
      }
    }
  } catch (const EngineError& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = e;
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = EngineError("INTERNAL", e.what());
  }
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  cv_.notify_all();
}

// Concatenated gzip members are one stream (RFC 1952), as gzip -d and Go's reader treat them.
// Members are decoded whole by libdeflate while they fit a chunk; anything else (a larger
// member, a corrupt or truncated one) goes to zlib from that member on, which also names the error.
void LayerReader::produceGzip(ChunkRef first) {
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (!d) throw EngineError("ENOMEM", "libdeflate_alloc_decompressor failed");
  std::vector<uint8_t> in(kWindow);
  size_t have = first->size, pos = 0;
  std::memcpy(in.data(), first->data.get(), have);
  bool eof = have < kIn;
  first.reset();
  for (;;) {
    while (!eof && have - pos < kMemberIn) {
      if (pos) {
        std::memmove(in.data(), in.data() + pos, have - pos);
        have -= pos;
        pos = 0;
      }
      ChunkRef c = readChunk();
      std::memcpy(in.data() + have, c->data.get(), c->size);
      have += c->size;
      eof = c->size < kIn;
    }
    if (pos == have) return;
    ChunkRef out = outPool_.acquire();
    size_t used = 0, made = 0;
    if (libdeflate_gzip_decompress_ex(d.get(), in.data() + pos, have - pos, out->data.get(), kMemberOut, &used, &made) != LIBDEFLATE_SUCCESS)
      return produceZlib(in, pos, have, eof);
    pos += used;
    out->size = made;
    pushTar(std::move(out));
  }
}

void LayerReader::produceZlib(std::vector<uint8_t>& in, size_t pos, size_t have, bool eof) {
  const Inflate& z = inflater();
  z_stream zs{};
  if (z.init2(&zs, 15 + 16, ZLIB_VERSION, int(sizeof zs)) != Z_OK) throw EngineError("ENOMEM", "inflateInit2 failed");
  struct End { const Inflate& z; z_stream* s; ~End() { z.end(s); } } end{z, &zs};
  zs.next_in = in.data() + pos;
  zs.avail_in = uInt(have - pos);
  ChunkRef inRef;  // the blob chunk zs.next_in points into, once the window is used up
  ChunkRef out;
  for (;;) {
    if (!out) out = outPool_.acquire();
    zs.next_out = out->data.get() + out->size;
    zs.avail_out = uInt(outPool_.cap() - out->size);
    int rc = z.run(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      throw EngineError("BAD_LAYER", "gzip: " + std::string(zs.msg ? zs.msg : "corrupt data") + ": " + path_, 0, "", path_);
    out->size = outPool_.cap() - zs.avail_out;
    bool full = zs.avail_out == 0;
    if (full) pushTar(std::move(out));
    if (zs.avail_in == 0) {
      size_t n = 0;
      if (!eof) {
        inRef = readChunk();
        n = inRef->size;
        eof = n == 0;
      }
      if (n == 0) {
        if (rc == Z_STREAM_END) {
          pushTar(std::move(out));
          return;
        }
        if (full) continue;  // zlib may hold more output for the next call
        throw EngineError("BAD_LAYER", "gzip: unexpected end of file: " + path_, 0, "", path_);
      }
      zs.next_in = inRef->data.get();
      zs.avail_in = uInt(n);
    }
    if (rc == Z_STREAM_END) z.reset(&zs);
  }
}

void LayerReader::produceZstd(ChunkRef in) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!d) throw EngineError("ENOMEM", "zstd: cannot create context");
  if (!checksums_) ZSTD_DCtx_setParameter(d.get(), ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
  ZSTD_inBuffer ib{in->data.get(), in->size, 0};
  size_t last = 0;
  bool flushing = false;  // the last call filled the output: more may be pending
  ChunkRef out;
  for (;;) {
    if (ib.pos == ib.size && !flushing) {
      in = readChunk();
      if (in->size == 0) break;
      ib = ZSTD_inBuffer{in->data.get(), in->size, 0};
    }
    if (!out) out = outPool_.acquire();
    ZSTD_outBuffer ob{out->data.get(), outPool_.cap(), out->size};
    last = ZSTD_decompressStream(d.get(), &ob, &ib);
    if (ZSTD_isError(last)) throw EngineError("BAD_LAYER", std::string("zstd: ") + ZSTD_getErrorName(last) + ": " + path_, 0, "", path_);
    out->size = ob.pos;
    flushing = ob.pos == ob.size;
    if (flushing) pushTar(std::move(out));
  }
  pushTar(std::move(out));
  if (last != 0) throw EngineError("BAD_LAYER", "zstd: unexpected end of file: " + path_, 0, "", path_);
}

bool LayerReader::fetch() {
  cur_.reset();  // the spent chunk goes back to its pool once nobody else holds it
  curPos_ = 0;
  ChunkRef next;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.empty() && !ended_ && waitHook_) {
      lock.unlock();
      waitHook_();
      lock.lock();
    }
    cv_.wait(lock, [this] { return !queue_.empty() || ended_; });
    if (queue_.empty()) {
      if (error_) throw *error_;
      return false;
    }
    next = std::move(queue_.front());
    queue_.pop_front();
  }
  cur_ = std::move(next);
  return true;
}

bool LayerReader::read(uint8_t* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    if ((!cur_ || curPos_ == cur_->size) && !fetch()) {
      if (got == 0) return false;
      throw EngineError("BAD_LAYER", "tar: unexpected end of layer: " + path_, 0, "", path_);
    }
    size_t k = std::min(n - got, cur_->size - curPos_);
    std::memcpy(dst + got, cur_->data.get() + curPos_, k);
    curPos_ += k;
    got += k;
  }
  return true;
}

size_t LayerReader::view(const uint8_t** p, size_t max) {
  while (!cur_ || curPos_ == cur_->size)
    if (!fetch()) return 0;
  size_t k = std::min(max, cur_->size - curPos_);
  *p = cur_->data.get() + curPos_;
  curPos_ += k;
  return k;
}

void LayerReader::skip(uint64_t n) {
  while (n) {
    if ((!cur_ || curPos_ == cur_->size) && !fetch()) throw EngineError("BAD_LAYER", "tar: unexpected end of layer: " + path_, 0, "", path_);
    size_t k = size_t(std::min<uint64_t>(n, cur_->size - curPos_));
    curPos_ += k;
    n -= k;
  }
}

void LayerReader::drain() {
  cur_.reset();
  curPos_ = 0;
  while (fetch()) cur_.reset();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return hashed_ == 2; });
  if (plain_) blobDigest_ = diffId_;  // the blob is the tar
}

}  // namespace nb
