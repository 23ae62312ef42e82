// Entering a user namespace: the child side of `launch` (launch.cc), which writes the id maps
// (newuidmap/newgidmap) between our "ready" and its "go"; only a single-threaded process may
// unshare a user namespace.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <csignal>
#include <unistd.h>

namespace nbs {

// Unshares a user and mount namespace, says "ready" on readyFd, waits for the maps ("go" on
// goFd), becomes root of the namespace and execs argv. Returns an exit status on failure.
int enterAndExec(char** argv, pid_t parent, int readyFd, int goFd) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
    std::fprintf(stderr,
                 "nbuild: cannot create a user namespace: %s (check user.max_user_namespaces and, on Ubuntu, "
                 "kernel.apparmor_restrict_unprivileged_userns)\n",
                 std::strerror(errno));
    return 125;
  }
  char c = 'R';
  if (write(readyFd, &c, 1) != 1) {
    std::fprintf(stderr, "nbuild-sandbox userns: no handshake pipe\n");
    return 125;
  }
  close(readyFd);
  ssize_t n;
  do n = read(goFd, &c, 1);
  while (n < 0 && errno == EINTR);
  close(goFd);
  if (n != 1 || c != 'G') return 125;  // the parent could not write the maps and said so itself
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    std::fprintf(stderr, "nbuild: cannot become root in the user namespace: %s\n", std::strerror(errno));
    return 125;
  }
  setgroups(0, nullptr);  // refused when setgroups is denied (single-id mapping): harmless
  // If the outer nbuild is SIGKILLed, the inner one (and with it its RUN sandboxes, which die
  // with their parent) must not live on. Set after the id change, which clears the setting;
  // SIGTERM lets a build abort and remove its work dirs. The parent may already be gone.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) return 125;
  // Mounts made in here must never propagate back to the host's namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    std::fprintf(stderr, "nbuild: cannot make / private: %s\n", std::strerror(errno));
    return 125;
  }
  setenv("NBUILD_USERNS", "1", 1);
  execvp(argv[0], argv);
  std::fprintf(stderr, "nbuild: exec %s: %s\n", argv[0], std::strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

}  // namespace nbs
