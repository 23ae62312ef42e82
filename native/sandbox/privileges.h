// What a RUN command may hold when it starts: Docker's capability sets, no_new_privs, and no
// descriptor but stdin, stdout and stderr (privileges.cc).
#pragma once
#include <cstdint>

namespace nbs {

// Docker's default capability set (moby's caps.DefaultCapabilities, containerd's defaultUnixCaps,
// which BuildKit's RUN gets): CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
constexpr uint64_t kDockerCapabilities = 0x00000000a80425fbULL;

// Sets no_new_privs (so a seccomp filter needs no CAP_SYS_ADMIN and setuid files gain nothing).
// Throws EngineError.
void setNoNewPrivs();

// Limits the bounding set to kDockerCapabilities, clears the ambient and inheritable sets and
// keeps in the permitted and effective sets only what the bounding set allows (as runc with
// containerd's default spec). A later setuid to a non-root uid empties permitted and effective,
// and execve then gives root exactly the bounding set. Throws EngineError.
void restrictCapabilities();

// Closes every descriptor from `lowest` up (close_range, or one by one on kernels before 5.9).
void closeDescriptorsFrom(int lowest);

}  // namespace nbs
