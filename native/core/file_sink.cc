#include "core/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"

namespace nb {

static constexpr size_t kBuf = 1 << 20;

FileSink::FileSink(const std::string& path) : path_(path) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_.valid()) throwSys("open", path);
  buf_.reserve(kBuf);
}

void FileSink::write(const uint8_t* data, size_t len) {
  sha_.update(data, len);
  size_ += len;
  if (buf_.size() + len > kBuf) flush();
  if (len >= kBuf) {
    buf_.assign(data, data + len);
    flush();
    return;
  }
  buf_.insert(buf_.end(), data, data + len);
}

void FileSink::flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_.get(), buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("write", path_);
    }
    off += size_t(n);
  }
  buf_.clear();
}

void FileSink::finish() {
  flush();
  if (::close(fd_.release()) != 0) throwSys("close", path_);
}

}  // namespace nb
