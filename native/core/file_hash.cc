#include "core/file_hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "core/error.h"
#include "core/fd.h"
#include "core/sha256.h"

namespace nb {

FileHash sha256File(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throwSys("open", path);
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<uint8_t> buf(1 << 20);
  Sha256 sha;
  FileHash h;
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throwSys("read", path);
    }
    if (n == 0) break;
    sha.update(buf.data(), size_t(n));
    h.size += uint64_t(n);
  }
  h.digest = sha.finishHex();
  return h;
}

}  // namespace nb
