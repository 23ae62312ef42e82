// The seccomp filters of RUN steps (and `nbuild run`), installed by the command right before
// execve, after no_new_privs (privileges.cc), which lets any process install a filter. Classic
// BPF written by hand (no libseccomp). Two filters:
//
// - refuseNamespaceCalls: what Docker's default seccomp profile refuses a container without
//   CAP_SYS_ADMIN and that a user namespace would otherwise let through. The step's root has no
//   CAP_SYS_ADMIN in nbuild's namespace, but `unshare -U` makes a nested user namespace whose
//   root holds every capability there (mount, overlay, tmpfs, netfilter, bpf...): the kernel
//   surface that container escapes usually go through. docker build's RUN gets EPERM for
//   unshare, setns, clone with a CLONE_NEW* flag and the mount calls, ENOSYS for clone3 (its
//   flags are behind a pointer a filter cannot read; libc falls back to clone), and EPERM for the
//   key calls (keyrings are not namespaced), bpf, perf_event_open, userfaultfd and the rest of
//   the list below. See docs/security.md ("Sandbox").
// - skipSyncCalls: fsync, fdatasync, sync, syncfs and sync_file_range return 0 without doing
//   anything. A build step's durability is worthless (the layer is committed and written to the
//   store afterwards, a crash mid-step throws the step away), and dpkg alone fsyncs every file it
//   unpacks. See docs/decisions.md ("RUN steps skip fsync").
#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "sandbox/util.h"

namespace nbs {

namespace {

#if defined(__x86_64__)
const unsigned kArch = AUDIT_ARCH_X86_64;
const unsigned kCompatArch = AUDIT_ARCH_I386;  // int 0x80: i386 numbers
#define NBS_X32_BIT 0x40000000u  // __X32_SYSCALL_BIT: x32 calls carry the x86_64 arch
#elif defined(__aarch64__)
const unsigned kArch = AUDIT_ARCH_AARCH64;
const unsigned kCompatArch = AUDIT_ARCH_ARM;  // AArch32 tasks: ARM EABI numbers
#else
#error "nbuild-sandbox: no AUDIT_ARCH for this architecture (add it to native/sandbox/seccomp.cc)"
#endif

// Numbers shared by every architecture since Linux 5.0 (the unified table, 403 and up).
const unsigned kOpenTree = 428, kMoveMount = 429, kFsopen = 430, kFsconfig = 431, kFsmount = 432, kFspick = 433,
               kClone3 = 435, kMountSetattr = 442, kQuotactlFd = 443;

struct Table {
  unsigned clone;
  std::vector<unsigned> refused;  // EPERM
};

// The native ABI's calls Docker's default profile refuses without CAP_SYS_ADMIN (or refuses
// outright), where nbuild's capability set would not already stop them all.
Table nativeTable() {
  return {SYS_clone,
          {SYS_unshare, SYS_setns, SYS_mount, SYS_umount2, SYS_pivot_root, kOpenTree, kMoveMount, kFsopen, kFsconfig,
           kFsmount, kFspick, kMountSetattr, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_bpf, SYS_perf_event_open,
           SYS_userfaultfd, SYS_fanotify_init, SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_quotactl, kQuotactlFd,
           SYS_syslog, SYS_sethostname, SYS_setdomainname, SYS_acct, SYS_kexec_load, SYS_kexec_file_load,
           SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_swapon, SYS_swapoff, SYS_reboot,
#ifdef SYS_lookup_dcookie
           SYS_lookup_dcookie,
#endif
#ifdef SYS_umount
           SYS_umount,
#endif
          }};
}

// The 32-bit compat ABI: a step may run a 32-bit program (or `int 0x80` by hand); the namespace,
// mount and key calls are refused there too (numbers from the i386 / ARM EABI tables).
Table compatTable() {
#if defined(__x86_64__)
  return {120, {310 /*unshare*/, 346 /*setns*/, 21 /*mount*/, 52 /*umount2*/, 22 /*umount*/, 217 /*pivot_root*/, kOpenTree,
                kMoveMount, kFsopen, kFsconfig, kFsmount, kFspick, kMountSetattr, 288 /*keyctl*/, 286 /*add_key*/,
                287 /*request_key*/, 357 /*bpf*/, 336 /*perf_event_open*/, 374 /*userfaultfd*/}};
#else
  return {120, {337 /*unshare*/, 375 /*setns*/, 21 /*mount*/, 52 /*umount2*/, 218 /*pivot_root*/, kOpenTree, kMoveMount,
                kFsopen, kFsconfig, kFsmount, kFspick, kMountSetattr, 311 /*keyctl*/, 309 /*add_key*/,
                310 /*request_key*/, 386 /*bpf*/, 364 /*perf_event_open*/, 388 /*userfaultfd*/}};
#endif
}

// Every namespace flag Docker's profile checks on clone (its mask 0x7E020000).
const unsigned kNewNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                    CLONE_NEWPID | CLONE_NEWNET;

using Program = std::vector<sock_filter>;

void emit(Program& p, sock_filter f) { p.push_back(f); }

// One ABI's block: ends in ALLOW; every path out of it returns.
Program tableBlock(const Table& t, bool clearX32Bit) {
  Program p;
  emit(p, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#ifdef NBS_X32_BIT
  // x32 numbers are the x86_64 ones with bit 30 set, for every call listed here.
  if (clearX32Bit) emit(p, BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~NBS_X32_BIT));
#else
  (void)clearX32Bit;
#endif
  for (unsigned nr : t.refused) {
    emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
    emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  }
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kClone3, 0, 1));
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
  // clone: its flags (the low word of the first argument) must hold no CLONE_NEW*.
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, t.clone, 0, 4));
  emit(p, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));
  emit(p, BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kNewNamespaceFlags));
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return p;
}

int install(const Program& prog) {
  sock_fprog fprog = {static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  // SPEC_ALLOW: a filter must not switch on the speculative-store-bypass mitigation for the whole
  // step (the default of Linux 4.17-5.15 for seccomp'd tasks, a real slowdown). Older kernels
  // (EINVAL for the flag) get the plain prctl.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) return errno;
  return 0;
}

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

int refuseNamespaceCalls() {
  Program native = tableBlock(nativeTable(), true), compat = tableBlock(compatTable(), false);
  Program p;
  emit(p, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 0, static_cast<unsigned char>(native.size())));
  p.insert(p.end(), native.begin(), native.end());
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kCompatArch, 0, static_cast<unsigned char>(compat.size())));
  p.insert(p.end(), compat.begin(), compat.end());
  // No other ABI reaches a task of this architecture; refuse rather than guess its numbers.
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  static_assert(sizeof(unsigned char) == 1, "BPF jump offsets are 8 bits");
  if (native.size() > 255 || compat.size() > 255) return E2BIG;
  return install(p);
}

int skipSyncCalls() {
  const unsigned n = sizeof kSkipped / sizeof kSkipped[0];
  Program p;
  // A call of another ABI (32-bit compat: other numbers) is allowed as it is.
  emit(p, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0));
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  emit(p, BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#ifdef NBS_X32_BIT
  // x32 numbers (bit 30 set) jump past the list to ALLOW.
  emit(p, BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, NBS_X32_BIT, static_cast<unsigned char>(n), 0));
#endif
  // Entry k jumps over the n-1-k entries after it and the ALLOW to land on SKIP.
  for (unsigned k = 0; k < n; k++) emit(p, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kSkipped[k], static_cast<unsigned char>(n - k), 0));
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  // SECCOMP_RET_ERRNO with errno 0: the call is not run and returns 0.
  emit(p, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0));
  return install(p);
}

}  // namespace nbs
