// Entering a user namespace: the child side of `launch` (launch.cc), which writes the id maps
// (newuidmap/newgidmap) between our "ready" and its "go", unless a held namespace is joined
// (userns_holder.h); only a single-threaded process may unshare or join a user namespace.
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

#include "sandbox/userns_holder.h"

namespace nbs {

// Joins `heldNs` (a held namespace, userns_holder.h) and says "J" on readyFd; or, without one or
// when joining fails, unshares a user namespace, says "ready" and waits for the maps ("go" on
// goFd), and leaves a holder in it when its maps are the full ones. Then becomes root of the
// namespace, unshares a mount namespace and execs argv. Returns an exit status on failure.
int enterAndExec(char** argv, pid_t parent, int readyFd, int goFd, int heldNs, const std::string& holdFile, unsigned keep) {
  const bool joined = heldNs >= 0 && setns(heldNs, CLONE_NEWUSER) == 0;
  if (heldNs >= 0) close(heldNs);
  if (joined) {
    close(goFd);
    char c = 'J';
    if (write(readyFd, &c, 1) != 1) return 125;
    close(readyFd);
    unsetenv("NBUILD_IDMAP_SINGLE");
  } else {
    if (unshare(CLONE_NEWUSER) < 0) {
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
    // Only a namespace with the maps newuidmap/newgidmap write is kept for the next commands.
    if (go[0] == 'G') startHolder(holdFile, keep);
  }
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    std::fprintf(stderr, "nbuild: cannot become root in the user namespace: %s\n", std::strerror(errno));
    return 125;
  }
  setgroups(0, nullptr);  // refused when setgroups is denied (single-id mapping): harmless
  // If the outer nbuild is SIGKILLed, the inner one (and with it its RUN sandboxes, which die
  // with their parent) must not live on. Set after the id change, which clears the setting;
  // SIGTERM lets a build abort and remove its work dirs. The parent may already be gone.
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) return 125;
  // A mount namespace of this command's own (the holder stays in the host's).
  if (unshare(CLONE_NEWNS) < 0) {
    std::fprintf(stderr, "nbuild: cannot create a mount namespace: %s\n", std::strerror(errno));
    return 125;
  }
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
