#include "core/file_sink.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cstring>

namespace nb {

Hasher::Hasher() {
  thread_ = std::thread([this] { run(); });
}

Hasher::~Hasher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::vector<uint8_t> Hasher::take() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return inFlight_ < kBuffers || error_; });
  if (error_) throw *error_;
  inFlight_++;
  std::vector<uint8_t> b;
  if (!free_.empty()) {
    b = std::move(free_.back());
    free_.pop_back();
  }
  b.clear();
  b.reserve(kBuffer);
  return b;
}

void Hasher::submit(std::vector<uint8_t>&& buf, Sha256* sha, int fd, const std::string* path) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(Job{std::move(buf), sha, fd, path});
    pending_++;
  }
  cv_.notify_all();
}

void Hasher::give(std::vector<uint8_t>&& buf) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(buf));
    inFlight_--;
  }
  cv_.notify_all();
}

void Hasher::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return pending_ == 0; });
  if (error_) throw *error_;
}

void Hasher::drain() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return pending_ == 0; });
}

void Hasher::run() {
  pthread_setname_np(pthread_self(), "nb-hash");
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    bool ok = !error_.has_value();  // after an error the rest is only recycled
    if (ok) {
      job.sha->update(job.buf.data(), job.buf.size());
      size_t off = 0;
      while (job.fd >= 0 && off < job.buf.size()) {
        ssize_t n = ::write(job.fd, job.buf.data() + off, job.buf.size() - off);
        if (n < 0) {
          if (errno == EINTR) continue;
          int err = errno;
          std::lock_guard<std::mutex> lock(mu_);
          try {
            throwSysErr(err, "write", *job.path);
          } catch (const EngineError& e) {
            error_ = e;
          }
          break;
        }
        off += size_t(n);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(job.buf));
      inFlight_--;
      pending_--;
    }
    cv_.notify_all();
  }
}

FileSink::FileSink(const std::string& path, Hasher& hasher) : path_(path), hasher_(hasher) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_.valid()) throwSys("open", path);
  buf_ = hasher_.take();
}

FileSink::~FileSink() {
  hasher_.drain();  // no job may still write to the fd (closed now) or hash into sha_
  if (buf_.capacity()) hasher_.give(std::move(buf_));
}

void FileSink::write(const uint8_t* data, size_t len) {
  size_ += len;
  Hasher::append(buf_, data, len, [this](bool more) { flush(more); });
}

void FileSink::flush(bool more) {
  hasher_.submit(std::move(buf_), &sha_, fd_.get(), &path_);
  buf_ = more ? hasher_.take() : std::vector<uint8_t>();
}

void FileSink::finish() {
  flush(false);
  hasher_.wait();
  if (::close(fd_.release()) != 0) throwSys("close", path_);
}

PlainFileSink::PlainFileSink(const std::string& path) : path_(path) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_.valid()) throwSys("open", path);
}

void PlainFileSink::write(const uint8_t* data, size_t len) {
  size_ += len;
  while (len) {
    ssize_t n = ::write(fd_.get(), data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("write", path_);
    }
    data += n;
    len -= size_t(n);
  }
}

void PlainFileSink::finish() {
  if (::close(fd_.release()) != 0) throwSys("close", path_);
}

HashingSink::HashingSink(Sink& next, Hasher& hasher) : next_(next), hasher_(hasher) { buf_ = hasher_.take(); }

HashingSink::~HashingSink() {
  hasher_.drain();
  if (buf_.capacity()) hasher_.give(std::move(buf_));
}

void HashingSink::write(const uint8_t* data, size_t len) {
  size_ += len;
  Hasher::append(buf_, data, len, [this](bool more) { flush(more); });
}

// The compressor reads the buffer while the background thread hashes it (both only read);
// the buffer is submitted only after the compressor is done with it, as submit hands it over.
void HashingSink::flush(bool more) {
  next_.write(buf_.data(), buf_.size());
  hasher_.submit(std::move(buf_), &sha_, -1, nullptr);
  buf_ = more ? hasher_.take() : std::vector<uint8_t>();
}

void HashingSink::finish() {
  flush(false);
  next_.finish();
}

}  // namespace nb
