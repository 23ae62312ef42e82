// The one native error type (layer engine and sandbox helper): a code, the errno and the syscall
// that failed, and the path involved, so the TS side can tell a missing file from a hostile layer
// without parsing text.
#pragma once
#include <cerrno>
#include <stdexcept>
#include <string>

namespace nb {

struct EngineError : std::runtime_error {
  std::string code;     // stable, e.g. "ESCAPE", "DIGEST_MISMATCH", or the errno name
  int err = 0;          // errno, 0 when not a system call failure
  std::string syscall;  // e.g. "openat"
  std::string path;
  EngineError(std::string code_, const std::string& msg, int err_ = 0, std::string syscall_ = {},
              std::string path_ = {})
      : std::runtime_error(msg), code(std::move(code_)), err(err_), syscall(std::move(syscall_)),
        path(std::move(path_)) {}
};

// Throws for the current errno; call right after the failing syscall so errno is intact.
[[noreturn]] void throwSys(const char* syscall, const std::string& path);
[[noreturn]] void throwSysErr(int err, const char* syscall, const std::string& path);
// A layer we refuse to apply (tar-slip, escape, malformed header).
[[noreturn]] void throwBad(const std::string& code, const std::string& msg, const std::string& path);

// The sandbox helper's form, where the context is one phrase ("mount /proc"): the message is
// "WHAT: strerror(err)", the code the errno name.
EngineError sysError(const std::string& what, int err);
[[noreturn]] void throwErrno(const std::string& what);  // for the current errno

}  // namespace nb
