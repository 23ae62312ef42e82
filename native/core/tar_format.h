// The tar format as nbuild writes and reads it: ustar headers, PAX extended headers for what
// ustar cannot hold (long names, big sizes and ids, xattrs), GNU long names on read.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nb {

enum class EntryType : char {
  File = '0', HardLink = '1', Symlink = '2', Char = '3', Block = '4', Dir = '5', Fifo = '6',
};

struct TarEntry {
  std::string name;      // relative, no leading "./"; directories without trailing '/'
  std::string linkname;  // symlink target or hard link source
  EntryType type = EntryType::File;
  uint32_t mode = 0;     // permission bits incl. setuid/setgid/sticky
  uint64_t uid = 0, gid = 0;
  int64_t mtime = 0;     // seconds
  uint64_t size = 0;     // data bytes (files only)
  uint32_t devMajor = 0, devMinor = 0;
  std::map<std::string, std::string> xattrs;  // sorted: deterministic PAX record order
};

// Header blocks (PAX record + ustar header) for an entry; data and padding follow.
std::vector<uint8_t> encodeHeader(const TarEntry& e);

// Parsing: one 512-byte block into the entry fields it carries, merged with PAX / GNU data.
struct RawHeader {
  char typeflag = 0;
  std::string name, linkname;
  uint32_t mode = 0;
  uint64_t uid = 0, gid = 0, size = 0;
  int64_t mtime = 0;
  uint32_t devMajor = 0, devMinor = 0;
};
bool isZeroBlock(const uint8_t* b);
// Throws on a bad checksum or unparsable number.
RawHeader decodeHeader(const uint8_t* b);
// PAX records "LEN key=value\n" into a map.
std::map<std::string, std::string> parsePax(const std::string& data);

}  // namespace nb
