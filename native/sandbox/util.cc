#include "sandbox/util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nbs {

void writeAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("write");
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void writeAll(int fd, const std::string& data) { writeAll(fd, data.data(), data.size()); }

std::string readAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("read");
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

void writeFile(const std::string& path, const std::string& contents, mode_t mode) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) throwErrno("open " + path);
  writeAll(fd.get(), contents);
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty() && cur != ".") parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty() && cur != ".") parts.push_back(cur);
  return parts;
}

std::string jsonQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool inUserNamespace() {
  // The initial namespace maps the whole 32-bit range onto itself.
  std::ifstream in("/proc/self/uid_map");
  unsigned long inside = 1, outside = 1, count = 0;
  if (!(in >> inside >> outside >> count)) return true;
  std::string more;
  if (in >> more) return true;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}

}  // namespace nbs
