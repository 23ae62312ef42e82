#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace nb {

struct FileHash {
  std::string digest;  // "sha256:<hex>"
  uint64_t size = 0;
};

FileHash sha256File(const std::string& path);

// What a file was while it was read: the fields of the stat cache's identity, the times as
// Node's Stats gives them (ms, sec * 1e3 + nsec / 1e6 in doubles), so both sides agree.
struct FileIdentity {
  double dev = 0, ino = 0, size = 0, mtimeMs = 0, ctimeMs = 0;
};

// The identity of a file's fstat, and whether two fstats are the same state of the file.
FileIdentity identityOf(const struct stat& st);
bool sameState(const struct stat& a, const struct stat& b);

struct HashedCopy {
  FileHash hash;
  // False when the file changed while it was read (its fstat before and after differ): the
  // digest then names no stable state of the file and must not be cached.
  bool stable = false;
  FileIdentity identity;
};

// Copies the regular file `src` to a new file `dst` (nothing may be there: an existing file,
// link or hard link is never written through), with src's permission bits, and hashes the bytes as they pass: one read of src.
HashedCopy copyFileHashed(const std::string& src, const std::string& dst);

}  // namespace nb
