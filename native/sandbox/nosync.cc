// The "skip syncs" seccomp filter of RUN steps: fsync, fdatasync, sync, syncfs and
// sync_file_range return 0 without doing anything. A build step's durability is worthless (the
// layer is committed and written to the store afterwards, a crash mid-step throws the step away),
// and dpkg alone fsyncs every file it unpacks. See docs/decisions.md ("RUN steps skip fsync").
//
// Classic BPF written by hand (no libseccomp). Installed after the command has set
// no_new_privs (privileges.cc), which lets any process install a filter.
#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/util.h"

namespace nbs {

namespace {

#if defined(__x86_64__)
const unsigned kArch = AUDIT_ARCH_X86_64;
#define NBS_X32_BIT 0x40000000u  // __X32_SYSCALL_BIT: x32 calls carry the x86_64 arch
#elif defined(__aarch64__)
const unsigned kArch = AUDIT_ARCH_AARCH64;
#else
#error "nbuild-sandbox: no AUDIT_ARCH for this architecture (add it to native/sandbox/nosync.cc)"
#endif

// msync is left alone on purpose: it is not only a flush but also the classic "is this address
// mapped?" probe (ENOMEM), used by stack unwinders and garbage collectors.
const unsigned kSkipped[] = {
    SYS_fsync,
    SYS_fdatasync,
    SYS_sync,
    SYS_syncfs,
#ifdef SYS_sync_file_range
    SYS_sync_file_range,
#endif
#ifdef SYS_sync_file_range2
    SYS_sync_file_range2,
#endif
};

}  // namespace

int skipSyncCalls() {
  const unsigned n = sizeof kSkipped / sizeof kSkipped[0];
  sock_filter prog[16];
  unsigned i = 0;
  // A call of another ABI (32-bit compat: other numbers) is allowed as it is.
  prog[i++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  prog[i++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
  prog[i++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  prog[i++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
#ifdef NBS_X32_BIT
  // x32 numbers (bit 30 set) jump past the list to ALLOW.
  prog[i++] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, NBS_X32_BIT, static_cast<unsigned char>(n), 0);
#endif
  // Entry k jumps over the n-1-k entries after it and the ALLOW to land on SKIP.
  for (unsigned k = 0; k < n; k++) prog[i++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kSkipped[k], static_cast<unsigned char>(n - k), 0);
  prog[i++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  // SECCOMP_RET_ERRNO with errno 0: the call is not run and returns 0.
  prog[i++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0);
  sock_fprog fprog = {static_cast<unsigned short>(i), prog};
  // SPEC_ALLOW: a filter must not switch on the speculative-store-bypass mitigation for the whole
  // step (the default of Linux 4.17-5.15 for seccomp'd tasks, a real slowdown). Older kernels
  // (EINVAL for the flag) get the plain prctl.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) return errno;
  return 0;
}

}  // namespace nbs
