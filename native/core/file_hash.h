#pragma once
#include <cstdint>
#include <string>

namespace nb {

struct FileHash {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
};

FileHash sha256File(const std::string& path);

}  // namespace nb
