// Small helpers shared by the sandbox helper: errno-carrying errors, full reads and writes.
#pragma once
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nbs {

// An error from a system call; keeps errno so the TS side can tell causes apart.
struct SysError : std::runtime_error {
  int err;
  SysError(const std::string& what, int e);
};

[[noreturn]] void throwErrno(const std::string& what);
void writeAll(int fd, const void* data, size_t size);
void writeAll(int fd, const std::string& data);
std::string readAll(int fd);
// Writes a whole file (created or truncated) with the given contents.
void writeFile(const std::string& path, const std::string& contents, mode_t mode);
std::vector<std::string> splitPath(const std::string& path);
std::string jsonQuote(const std::string& s);
// True when this process runs in a user namespace other than the initial one.
bool inUserNamespace();
// Installs the seccomp filter that turns fsync, fdatasync, sync, syncfs and sync_file_range into
// no-ops returning 0 (nosync.cc). Needs CAP_SYS_ADMIN in the user namespace; returns 0 or errno.
int skipSyncCalls();

}  // namespace nbs
