#include "core/error.h"

#include <cstring>

namespace nb {

static std::string errnoName(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : "EUNKNOWN";
}

void throwSysErr(int err, const char* syscall, const std::string& path) {
  std::string msg = std::string(syscall) + " " + path + ": " + std::strerror(err);
  throw EngineError(errnoName(err), msg, err, syscall, path);
}

void throwSys(const char* syscall, const std::string& path) { throwSysErr(errno, syscall, path); }

EngineError sysError(const std::string& what, int err) {
  return EngineError(errnoName(err), what + ": " + std::strerror(err), err);
}

void throwErrno(const std::string& what) { throw sysError(what, errno); }

void throwBad(const std::string& code, const std::string& msg, const std::string& path) {
  throw EngineError(code, msg + ": " + path, 0, "", path);
}

}  // namespace nb
