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
#include <string>
#include <unistd.h>

namespace nbs {

// Unshares a user and mount namespace, says "ready" on readyFd, waits for the maps ("go" on
// goFd), becomes root of the namespace and execs argv. Returns an exit status on failure.
int enterAndExec(char** argv, pid_t parent, int readyFd, int goFd) {
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
    // The parent says it, or has the CLI explain it (launch.cc).
    const std::string why = std::string("E") + std::strerror(errno);
    if (write(readyFd, why.data(), why.size()) < 0) return 125;
    return 125;
  }
  char c = 'R';
  if (write(readyFd, &c, 1) != 1) {
    std::fprintf(stderr, "nbuild-sandbox userns: no handshake pipe\n");
    return 125;
  }
  close(readyFd);
  // 'G', or 'S' followed by why only one id is mapped, up to the parent's close.
  std::string go;
  char buf[256];
  ssize_t n;
  while ((n = read(goFd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    go.append(buf, static_cast<size_t>(n));
  }
  close(goFd);
  if (go.empty() || (go[0] != 'G' && go[0] != 'S')) return 125;  // the parent could not write the maps and said so itself
  if (go[0] == 'S') setenv("NBUILD_IDMAP_SINGLE", go.c_str() + 1, 1);
  else unsetenv("NBUILD_IDMAP_SINGLE");
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
