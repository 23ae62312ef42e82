#include "sandbox/handback.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nbs {

namespace {

constexpr const char kPodmanLoad[] = "podman-load ";

std::string readAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string lastLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

// `podman load -i file`, its stdout onto our stderr (stdout carries the image id), its stderr
// kept for the one-line error. Returns 0, or prints why and returns 1.
int podmanLoad(const std::string& file) {
  int err[2];
  if (pipe2(err, O_CLOEXEC) < 0) {
    std::fprintf(stderr, "nbuild: --load: pipe: %s\n", std::strerror(errno));
    return 1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::fprintf(stderr, "nbuild: --load: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    dup2(2, 1);
    dup2(err[1], 2);
    const char* argv[] = {"podman", "load", "-i", file.c_str(), nullptr};
    execvp("podman", const_cast<char* const*>(argv));
    std::fprintf(stderr, "cannot run podman: %s\n", std::strerror(errno));
    _exit(127);
  }
  close(err[1]);
  const std::string said = readAll(err[0]);
  close(err[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  const std::string why = lastLine(said);
  std::fprintf(stderr, "nbuild: --load: podman load failed: %s\n", why.empty() ? "no message" : why.c_str());
  return 1;
}

}  // namespace

bool openHandBack(HandBack& h) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return false;
  h.readFd = fds[0];
  h.writeFd = fds[1];
  return true;
}

void announceHandBack(HandBack& h) {
  if (h.writeFd < 0) return;
  close(h.readFd);
  if (fcntl(h.writeFd, F_SETFD, 0) == 0) setenv("NBUILD_HANDBACK_FD", std::to_string(h.writeFd).c_str(), 1);
}

void keepReadEnd(HandBack& h) {
  if (h.writeFd >= 0) close(h.writeFd);
  h.writeFd = -1;
}

int awaitExit(HandBack& h, pid_t child) {
  if (h.readFd < 0) return -1;
  // A descriptor that becomes readable when the child exits: the pipe alone could stay open
  // after it (a process it left behind holding the write end).
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  if (pidfd < 0) return -1;
  constexpr const char kExit[] = "exit ";
  int code = -1;
  bool open = true;
  while (code < 0) {
    pollfd fds[2] = {{pidfd, POLLIN, 0}, {open ? h.readFd : -1, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;  // a relayed signal
      break;
    }
    if (fds[1].revents != 0) {
      char buf[4096];
      const ssize_t n = read(h.readFd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) open = false;
      else h.said.append(buf, static_cast<size_t>(n));
      // The exit line is the last one Node writes.
      const size_t at = h.said.rfind(kExit);
      if (at != std::string::npos && (at == 0 || h.said[at - 1] == '\n') && h.said.back() == '\n') {
        const std::string digits = h.said.substr(at + sizeof kExit - 1, h.said.size() - 1 - (at + sizeof kExit - 1));
        if (!digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string::npos) {
          code = std::stoi(digits);
          h.said.erase(at);
        }
      }
      continue;
    }
    if (fds[0].revents != 0) break;  // exited without the line
  }
  close(pidfd);
  return code;
}

int runHandBack(HandBack& h, int status) {
  if (h.readFd < 0) return status;
  // Node has exited or said its last line; a process it left behind may hold the write end:
  // read what is there, no wait.
  fcntl(h.readFd, F_SETFL, O_NONBLOCK);
  const std::string msg = h.said + readAll(h.readFd);
  close(h.readFd);
  h.readFd = -1;
  if (msg.compare(0, sizeof kPodmanLoad - 1, kPodmanLoad) != 0) return status;
  const size_t end = msg.find('\n');
  if (end == std::string::npos) return status;
  const std::string file = msg.substr(sizeof kPodmanLoad - 1, end - (sizeof kPodmanLoad - 1));
  // Only a regular file of this user's, named by an absolute path (Node's own temp archive).
  struct stat st {};
  if (file.empty() || file[0] != '/' || lstat(file.c_str(), &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid()) {
    std::fprintf(stderr, "nbuild: --load: the archive to load is not a file of this user's: %s\n", file.c_str());
    return status == 0 ? 1 : status;
  }
  const int loaded = status == 0 ? podmanLoad(file) : 0;
  unlink(file.c_str());
  // Its folder (nbuild-load-XXXXXX) is removed when empty.
  const size_t slash = file.rfind('/');
  if (slash > 0) rmdir(file.substr(0, slash).c_str());
  return status == 0 ? loaded : status;
}

}  // namespace nbs
