#include "core/file_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/read_buffer.h"
#include "core/sha256.h"

namespace nb {

FileHash sha256File(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throwSys("open", path);
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  // One buffer per thread, as copyFileHashed: a fresh zeroed 1 MiB per file (mmap'd, faulted in
  // and unmapped by malloc) cost far more than hashing a small file (docs/decisions.md).
  uint8_t* const buf = threadReadBuffer();
  Sha256 sha;
  FileHash h;
  for (;;) {
    ssize_t n = read(fd.get(), buf, kReadBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", path);
    }
    if (n == 0) break;
    sha.update(buf, size_t(n));
    h.size += uint64_t(n);
  }
  h.digest = sha.finishHex();
  return h;
}

namespace {

double msOf(const timespec& t) { return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6; }

void writeAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throwSys("write", path);
    }
    p += w;
    n -= size_t(w);
  }
}

}  // namespace

FileIdentity identityOf(const struct stat& st) {
  return {double(st.st_dev), double(st.st_ino), double(st.st_size), msOf(st.st_mtim), msOf(st.st_ctim)};
}

bool sameState(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

HashedCopy copyFileHashed(const std::string& src, const std::string& dst) {
  UniqueFd in(open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) throwSys("open", src);
  struct stat before {};
  if (fstat(in.get(), &before) != 0) throwSys("fstat", src);
  if (!S_ISREG(before.st_mode)) throwBad("NOT_A_FILE", "not a regular file", src);
  posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  UniqueFd out(open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) throwSys("open", dst);
  // Small files (most of a context) need no 1 MiB buffer of their own: one per thread.
  uint8_t* const buf = threadReadBuffer();
  Sha256 sha;
  HashedCopy r;
  for (;;) {
    ssize_t n = read(in.get(), buf, kReadBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", src);
    }
    if (n == 0) break;
    sha.update(buf, size_t(n));
    writeAll(out.get(), buf, size_t(n), dst);
    r.hash.size += uint64_t(n);
  }
  // As fs.copyFile: the source's permission bits, not the umask's.
  if (fchmod(out.get(), before.st_mode & 07777) != 0) throwSys("fchmod", dst);
  if (close(out.release()) != 0) throwSys("close", dst);
  struct stat after {};
  if (fstat(in.get(), &after) != 0) throwSys("fstat", src);
  r.hash.digest = sha.finishHex();
  r.stable = sameState(before, after) && r.hash.size == uint64_t(before.st_size);
  r.identity = identityOf(before);
  return r;
}

}  // namespace nb
