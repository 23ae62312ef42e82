#include "core/gzip_writer.h"

#include <libdeflate.h>
#include <zlib.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "core/error.h"

namespace nb {

static constexpr size_t kBlock = 128 * 1024;
static constexpr size_t kDict = 32 * 1024;

struct GzipJob {
  std::vector<uint8_t> in, dict, out;
  int level = 6;
  bool last = false;
  bool member = false;
  unsigned long crc = 0;
  std::string error;
  bool done = false;
  std::mutex mu;
  std::condition_variable cv;
};

// One deflate state per worker thread, reset for every block (deflateInit is costly).
struct ThreadDeflate {
  z_stream zs{};
  int level = -1;
  ~ThreadDeflate() {
    if (level >= 0) deflateEnd(&zs);
  }
  z_stream* get(int lvl) {
    if (level != lvl) {
      if (level >= 0) deflateEnd(&zs);
      zs = z_stream{};
      if (deflateInit2(&zs, lvl, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
      level = lvl;
    } else {
      deflateReset(&zs);
    }
    return &zs;
  }
};

// One libdeflate compressor per worker thread and level.
struct ThreadLibdeflate {
  libdeflate_compressor* c = nullptr;
  int level = -1;
  ~ThreadLibdeflate() { libdeflate_free_compressor(c); }
  libdeflate_compressor* get(int lvl) {
    if (level != lvl) {
      libdeflate_free_compressor(c);
      c = libdeflate_alloc_compressor(lvl);
      if (!c) throw std::runtime_error("libdeflate_alloc_compressor failed");
      level = lvl;
    }
    return c;
  }
};

static void compressMember(GzipJob& job) {
  thread_local ThreadLibdeflate td;
  libdeflate_compressor* c = td.get(job.level);
  job.out.resize(libdeflate_gzip_compress_bound(c, job.in.size()));
  size_t n = libdeflate_gzip_compress(c, job.in.data(), job.in.size(), job.out.data(), job.out.size());
  if (n == 0) throw std::runtime_error("libdeflate_gzip_compress failed");
  job.out.resize(n);
}

static void compressBlock(GzipJob& job) {
  if (job.member) return compressMember(job);
  thread_local ThreadDeflate td;
  z_stream* zs = td.get(job.level);
  if (!job.dict.empty()) deflateSetDictionary(zs, job.dict.data(), uInt(job.dict.size()));
  job.out.resize(deflateBound(zs, job.in.size()) + 64);
  zs->next_in = job.in.data();
  zs->avail_in = uInt(job.in.size());
  zs->next_out = job.out.data();
  zs->avail_out = uInt(job.out.size());
  int rc = deflate(zs, job.last ? Z_FINISH : Z_SYNC_FLUSH);
  if (rc != (job.last ? Z_STREAM_END : Z_OK) || zs->avail_in != 0)
    throw std::runtime_error("deflate failed");
  job.out.resize(job.out.size() - zs->avail_out);
  job.crc = crc32_z(0, job.in.data(), job.in.size());
}

ParallelGzip::ParallelGzip(Sink& out, int level, unsigned threads, bool members)
    : out_(out), level_(level), members_(members), block_(members ? 1 << 20 : kBlock), maxInFlight_(4 * size_t(threads ? threads : 1) + 2),
      crc_(crc32(0, nullptr, 0)), pool_(threads ? threads : 1) {
  // Fixed header: no name, mtime 0, OS "unknown", so the bytes depend only on the content.
  static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  if (!members_) out_.write(header, sizeof header);
  cur_.reserve(block_);
}

ParallelGzip::~ParallelGzip() = default;

void ParallelGzip::write(const uint8_t* data, size_t len) {
  while (len) {
    size_t n = std::min(len, block_ - cur_.size());
    cur_.insert(cur_.end(), data, data + n);
    data += n;
    len -= n;
    if (cur_.size() == block_) submit(false);
  }
}

void ParallelGzip::submit(bool last) {
  auto job = std::make_shared<GzipJob>();
  job->level = level_;
  job->last = last;
  job->member = members_;
  if (!members_) job->dict = dict_;
  // The next block's dictionary is this block's tail (pigz keeps the last 32 KiB, too);
  // only the last block can be short, and nothing follows it.
  size_t keep = std::min(cur_.size(), kDict);
  dict_.assign(cur_.end() - keep, cur_.end());
  job->in.swap(cur_);
  cur_.clear();
  cur_.reserve(block_);
  total_ += job->in.size();
  pending_.push_back(job);
  pool_.post([job] {
    try {
      compressBlock(*job);
    } catch (const std::exception& e) {
      job->error = e.what();
    }
    std::lock_guard<std::mutex> lock(job->mu);
    job->done = true;
    job->cv.notify_all();
  });
  while (pending_.size() > maxInFlight_) drainFront();
}

void ParallelGzip::drainFront() {
  std::shared_ptr<GzipJob> job = pending_.front();
  pending_.pop_front();
  {
    std::unique_lock<std::mutex> lock(job->mu);
    job->cv.wait(lock, [&] { return job->done; });
  }
  if (!job->error.empty()) throw EngineError("COMPRESSION", "gzip: " + job->error);
  out_.write(job->out.data(), job->out.size());
  if (!members_) crc_ = crc32_combine64(crc_, job->crc, z_off64_t(job->in.size()));
}

void ParallelGzip::finish() {
  submit(true);
  while (!pending_.empty()) drainFront();
  if (members_) return out_.finish();
  uint8_t trailer[8];
  uint32_t isize = uint32_t(total_);
  for (int i = 0; i < 4; i++) trailer[i] = uint8_t(crc_ >> (8 * i));
  for (int i = 0; i < 4; i++) trailer[4 + i] = uint8_t(isize >> (8 * i));
  out_.write(trailer, sizeof trailer);
  out_.finish();
}

}  // namespace nb
