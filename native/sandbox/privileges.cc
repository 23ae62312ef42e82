// The RUN command's privileges, set in the command process just before it drops to USER and
// execs (run.cc execCommand): see privileges.h and docs/security.md ("Sandbox").
#include "sandbox/privileges.h"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <linux/capability.h>
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "sandbox/util.h"

namespace nbs {

void setNoNewPrivs() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) throwErrno("set no_new_privs");
}

void restrictCapabilities() {
  // PR_CAPBSET_READ answers EINVAL past the kernel's last capability: no /proc needed (chroot mode).
  for (int cap = 0; cap < 64; cap++) {
    int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0) break;
    if (in == 1 && !((kDockerCapabilities >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      throwErrno("drop capability " + std::to_string(cap) + " from the bounding set");
  }
  // Kernels before 4.3 have no ambient set (EINVAL): nothing to clear there.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) throwErrno("clear ambient capabilities");
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) < 0) throwErrno("capget");
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
    const uint32_t allowed = static_cast<uint32_t>(kDockerCapabilities >> (32 * i));
    data[i].permitted &= allowed;
    data[i].effective = data[i].permitted;
    // Empty, as in Docker and containerd since CVE-2022-24769: inheritable capabilities would let
    // a program with inheritable file capabilities gain them across execve.
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) < 0) throwErrno("capset");
}

void closeDescriptorsFrom(int lowest) {
  if (syscall(SYS_close_range, static_cast<unsigned>(lowest), ~0U, 0) == 0) return;
  // Before Linux 5.9: list them first (closing while reading the directory would skip entries).
  std::vector<int> open;
  if (DIR* d = opendir("/proc/self/fd")) {
    const int own = dirfd(d);
    while (struct dirent* e = readdir(d)) {
      char* end = nullptr;
      long fd = std::strtol(e->d_name, &end, 10);
      if (*e->d_name && !*end && fd >= lowest && fd != own) open.push_back(static_cast<int>(fd));
    }
    closedir(d);
  } else {
    long max = sysconf(_SC_OPEN_MAX);  // no /proc (chroot mode): every possible number
    for (long fd = lowest; fd < (max > 0 ? max : 1024); fd++) open.push_back(static_cast<int>(fd));
  }
  for (int fd : open) close(fd);
}

}  // namespace nbs
