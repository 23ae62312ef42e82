#include "sandbox/net.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/privileges.h"
#include "sandbox/util.h"

namespace nbs {

void loopbackUp() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) throwErrno("socket");
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof ifr);
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
      (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
    int e = errno;
    close(s);
    throw sysError("bring up loopback", e);
  }
  close(s);
}

namespace {

// What slirp4netns wrote on stderr (a memfd: it can never block on a full pipe), trimmed.
std::string logText(int fd) {
  std::string text;
  if (lseek(fd, 0, SEEK_SET) == 0) {
    try {
      text = readAll(fd);
    } catch (...) {
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t nl = text.rfind('\n');  // its last line says why
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

pid_t startSlirp4netns(const std::string& binary, pid_t target, volatile sig_atomic_t& aborted) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) throwErrno("pipe");
  int log = memfd_create("slirp4netns-stderr", MFD_CLOEXEC);
  if (log < 0) {
    int e = errno;
    close(ready[0]);
    close(ready[1]);
    throw sysError("memfd_create", e);
  }
  const pid_t parent = getpid();
  const std::string targetText = std::to_string(target);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(ready[0]);
    close(ready[1]);
    close(log);
    throw sysError("fork slirp4netns", e);
  }
  if (pid == 0) {
    // Nothing of the helper's but the ready pipe (as fd 3) and the log; dies with the helper.
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(log, 2) < 0 || dup2(ready[1], 3) < 0) _exit(126);
    closeDescriptorsFrom(4);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(126);
    // --enable-sandbox (its own empty root, capabilities dropped) and --enable-seccomp, as podman
    // runs it: slirp4netns parses the step's packets outside the sandbox, as the invoking user.
    const char* argv[] = {"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
                          "--enable-seccomp", "--ready-fd=3", targetText.c_str(), "tap0", nullptr};
    execv(binary.c_str(), const_cast<char* const*>(argv));
    std::fprintf(stderr, "cannot run %s: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(ready[1]);
  char c = 0;
  ssize_t n;
  while ((n = read(ready[0], &c, 1)) < 0 && errno == EINTR && !aborted) {
  }
  close(ready[0]);
  if (n == 1 && c == '1' && !aborted) {
    close(log);
    return pid;
  }
  int status = stopSlirp4netns(pid);
  std::string why = aborted ? std::string("aborted") : logText(log);
  close(log);
  if (why.empty() && WIFEXITED(status)) why = "it exited with status " + std::to_string(WEXITSTATUS(status));
  throw std::runtime_error("slirp4netns did not set up the step's network" + (why.empty() ? std::string() : ": " + why) +
                           " (`--network host` builds without it)");
}

int stopSlirp4netns(pid_t pid) {
  if (pid <= 0) return 0;
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace nbs
