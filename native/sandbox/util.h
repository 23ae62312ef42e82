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
// The seccomp filters of a RUN command (seccomp.cc); each needs no_new_privs set first and
// returns 0 or errno. refuseNamespaceCalls: what Docker's default profile refuses without
// CAP_SYS_ADMIN (unshare, setns, clone with CLONE_NEW*, clone3, mount calls, keyrings, bpf...).
// skipSyncCalls: fsync, fdatasync, sync, syncfs and sync_file_range become no-ops returning 0.
int refuseNamespaceCalls();
int skipSyncCalls();

}  // namespace nbs
