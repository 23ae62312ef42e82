// Chroot-like isolation for real root in a container that refuses namespaces (no CAP_SYS_ADMIN,
// no user namespaces): no mounts are possible, so the root is a plain copy (the copy-based
// snapshot), device nodes are made with mknod, and /etc/{hosts,resolv.conf,hostname} are
// written in place and put back afterwards. Processes are not hidden; the process group is
// killed at the end. Weaker than the namespace modes and documented as such.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sandbox/spec.h"
#include "sandbox/util.h"

namespace nbs {

[[noreturn]] void execCommand(const Spec& spec);

namespace {

struct Restore {
  std::string path, saved;  // saved empty: the file did not exist
};

const char* kSaved = ".nbuild-saved";

void placeFile(const std::string& root, const std::string& rel, const std::string& contents, std::vector<Restore>& undo) {
  std::string path = root + "/" + rel, saved;
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    saved = path + kSaved;
    if (rename(path.c_str(), saved.c_str()) < 0) throwErrno("save " + rel);
  }
  undo.push_back({path, saved});
  writeFile(path, contents, 0644);
}

void makeDevices(const std::string& root, std::vector<std::string>& made) {
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  const Node nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  std::string dev = root + "/dev";
  if (mkdir(dev.c_str(), 0755) == 0) made.push_back(dev);
  for (const auto& n : nodes) {
    std::string p = dev + "/" + n.name;
    struct stat st;
    if (lstat(p.c_str(), &st) == 0) continue;
    if (mknod(p.c_str(), S_IFCHR | 0666, makedev(n.major, n.minor)) < 0) throwErrno(std::string("mknod /dev/") + n.name);
    chmod(p.c_str(), 0666);
    made.push_back(p);
  }
}

}  // namespace

// Runs the command chrooted into spec.rootPath; returns the JSON result line.
std::string chrootRun(const Spec& spec, volatile sig_atomic_t& aborted, volatile pid_t& child) {
  if (spec.rootKind != "dir") throw std::runtime_error("chroot isolation needs a copy-based (dir) root");
  if (!spec.mounts.empty()) throw std::runtime_error("RUN --mount is not available with chroot isolation");
  if (spec.network != "host")
    throw std::runtime_error("network " + spec.network + " needs a network namespace, which chroot isolation does not make");
  std::vector<Restore> undo;
  std::vector<std::string> made;
  std::string result;
  auto restore = [&] {
    for (auto it = made.rbegin(); it != made.rend(); ++it) remove(it->c_str());
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      unlink(it->path.c_str());
      if (!it->saved.empty()) rename(it->saved.c_str(), it->path.c_str());
    }
  };
  try {
    std::string etc = spec.rootPath + "/etc";
    if (mkdir(etc.c_str(), 0755) == 0) made.insert(made.begin(), etc);
    placeFile(spec.rootPath, "etc/hosts", spec.hosts, undo);
    placeFile(spec.rootPath, "etc/resolv.conf", spec.resolvConf, undo);
    placeFile(spec.rootPath, "etc/hostname", spec.hostname + "\n", undo);
    makeDevices(spec.rootPath, made);
    pid_t pid = fork();
    if (pid < 0) throwErrno("fork");
    if (pid == 0) {
      setpgid(0, 0);
      if (chroot(spec.rootPath.c_str()) < 0 || chdir("/") < 0) {
        std::fprintf(stderr, "nbuild: chroot %s: %s\n", spec.rootPath.c_str(), std::strerror(errno));
        _exit(126);
      }
      struct stat st;
      if (stat(spec.cwd.c_str(), &st) < 0) {
        std::string cur;
        for (const auto& p : splitPath(spec.cwd)) mkdir((cur += "/" + p).c_str(), 0755);
      }
      execCommand(spec);
    }
    setpgid(pid, pid);
    child = pid;
    if (aborted) kill(-pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    kill(-pid, SIGKILL);  // whatever the command left running in its group
    if (WIFSIGNALED(st)) {
      const char* ab = sigabbrev_np(WTERMSIG(st));
      result = "{\"type\":\"exit\",\"exitCode\":" + std::to_string(128 + WTERMSIG(st)) + ",\"signal\":" +
               jsonQuote(std::string("SIG") + (ab ? ab : "UNKNOWN")) + "}";
    } else {
      result = "{\"type\":\"exit\",\"exitCode\":" + std::to_string(WEXITSTATUS(st)) + "}";
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();
  if (aborted) result = "{\"type\":\"aborted\"}";
  return result;
}

}  // namespace nbs
