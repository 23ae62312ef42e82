// Small helpers shared by the sandbox helper: full reads and writes. Errors and fds are core's.
#pragma once
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/error.h"
#include "core/fd.h"

namespace nbs {

// errno-carrying errors (EngineError.err keeps errno so the TS side can tell causes apart).
using nb::EngineError;
using nb::sysError;
using nb::throwErrno;
using nb::UniqueFd;
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
