#include "core/layer_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace nb {

namespace {
constexpr size_t kIn = 1 << 20;
constexpr size_t kOut = 256 << 10;
constexpr size_t kQueue = 16;  // chunks ahead of the parser: the memory bound
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

void LayerReader::push(std::vector<uint8_t>&& chunk) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stop_ || queue_.size() < kQueue; });
  if (stop_) throw EngineError("CANCELLED", "extraction stopped");
  queue_.push_back(std::move(chunk));
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
        push(std::vector<uint8_t>(in.begin(), in.begin() + long(have)));
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
void LayerReader::produceGzip(std::vector<uint8_t>& in, size_t have) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw EngineError("ENOMEM", "inflateInit2 failed");
  struct End { z_stream* z; ~End() { inflateEnd(z); } } end{&zs};
  zs.next_in = in.data();
  zs.avail_in = uInt(have);
  for (;;) {
    std::vector<uint8_t> out(kOut);
    zs.next_out = out.data();
    zs.avail_out = uInt(out.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      throw EngineError("BAD_LAYER", "gzip: " + std::string(zs.msg ? zs.msg : "corrupt data") + ": " + path_, 0, "", path_);
    out.resize(out.size() - zs.avail_out);
    if (!out.empty()) push(std::move(out));
    if (zs.avail_in == 0) {
      have = readFile(in.data(), in.size());
      zs.next_in = in.data();
      zs.avail_in = uInt(have);
      if (have == 0) {
        if (rc != Z_STREAM_END) throw EngineError("BAD_LAYER", "gzip: unexpected end of file: " + path_, 0, "", path_);
        return;
      }
    }
    if (rc == Z_STREAM_END) inflateReset(&zs);
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
    std::vector<uint8_t> out(kOut);
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    last = ZSTD_decompressStream(d.get(), &ob, &ib);
    if (ZSTD_isError(last)) throw EngineError("BAD_LAYER", std::string("zstd: ") + ZSTD_getErrorName(last) + ": " + path_, 0, "", path_);
    out.resize(ob.pos);
    if (!out.empty()) push(std::move(out));
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
  cur_ = std::move(queue_.front());
  queue_.pop_front();
  cv_.notify_all();
  lock.unlock();
  curPos_ = 0;
  tarSha_.update(cur_.data(), cur_.size());
  tarSize_ += cur_.size();
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
