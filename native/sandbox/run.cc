// `nbuild-sandbox run`: one RUN step. Three processes:
//   helper (this one, outside the new PID namespace): relays abort, cleans the layer, reports;
//   init (PID 1 of the new PID namespace): mounts the root, forks the command, reaps, forwards signals;
//   command: drops to the step's user and execs.
// When init dies the kernel kills every process of the namespace and drops its mounts.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/overlay.h"
#include "sandbox/net.h"
#include "sandbox/privileges.h"
#include "sandbox/rootfs.h"
#include "sandbox/spec.h"
#include "sandbox/util.h"

namespace nbs {

std::string chrootRun(const Spec& spec, volatile sig_atomic_t& aborted, volatile pid_t& child);

namespace {

const int kEventFd = 3;
volatile sig_atomic_t gAborted = 0;
volatile pid_t gInit = 0;

bool gChroot = false;

void onAbort(int) {
  gAborted = 1;
  if (gInit > 0) kill(gChroot ? -gInit : gInit, SIGKILL);
}

void emit(const std::string& json) {
  try {
    writeAll(kEventFd, json + "\n");
  } catch (...) {
    // The TS side is gone; nothing left to tell.
  }
}

std::string sigName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : std::to_string(sig);
}

std::string lookPath(const Spec& spec) {
  const std::string& a0 = spec.args[0];
  if (a0.find('/') != std::string::npos) return a0;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : spec.env)
    if (e.compare(0, 5, "PATH=") == 0) path = e.substr(5);
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string cand = (dir.empty() ? "." : dir) + "/" + a0;
    struct stat st;
    if (stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(cand.c_str(), X_OK) == 0) return cand;
    if (end == std::string::npos) return a0;
    start = end + 1;
  }
}

}  // namespace

[[noreturn]] void execCommand(const Spec& spec) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
  // Build steps never read the terminal; `nbuild run -i` hands its stdin over on fd 4.
  int in = spec.stdinInherit ? 4 : open("/dev/null", O_RDONLY);
  if (in >= 0) {
    dup2(in, 0);
    if (in != 0) close(in);
  }
  auto die = [](const std::string& what, int e) {
    std::fprintf(stderr, "nbuild: %s: %s\n", what.c_str(), std::strerror(e));
    _exit(e == ENOENT ? 127 : 126);
  };
  // no_new_privs first: the seccomp filters then need no CAP_SYS_ADMIN, in any isolation mode.
  try {
    setNoNewPrivs();
  } catch (const EngineError& e) {
    die(e.what(), e.err);
  }
  // As docker build's RUN: no nested user namespace (whose root would hold every capability),
  // no mount, no keyring. Not best effort: a step is never run without it.
  if (int e = refuseNamespaceCalls()) die("install the RUN seccomp filter (docs/security.md, Sandbox)", e);
  // Best effort: where seccomp is refused (a kernel without it) the syncs simply stay real.
  if (spec.skipSync) skipSyncCalls();
  // Docker's capabilities while still root of the namespace (dropping needs CAP_SETPCAP); the
  // id changes below need only CAP_SETGID and CAP_SETUID, which that set keeps.
  try {
    restrictCapabilities();
  } catch (const EngineError& e) {
    die(e.what(), e.err);
  }
  std::vector<gid_t> groups(spec.additionalGids.begin(), spec.additionalGids.end());
  // With a single-id mapping setgroups is denied and the list cannot change: accept that when
  // it asks for no group beyond the primary one (which setresgid below gives).
  bool primaryOnly = std::all_of(groups.begin(), groups.end(), [&](gid_t g) { return g == spec.gid; });
  if (setgroups(groups.size(), groups.data()) < 0 && !(errno == EPERM && primaryOnly))
    die("setgroups (are the supplementary groups mapped? see /etc/subgid)", errno);
  if (setresgid(spec.gid, spec.gid, spec.gid) < 0)
    die("setgid " + std::to_string(spec.gid) + " (not mapped in the user namespace? see /etc/subgid)", errno);
  if (setresuid(spec.uid, spec.uid, spec.uid) < 0)
    die("setuid " + std::to_string(spec.uid) + " (not mapped in the user namespace? see /etc/subuid)", errno);
  // --ulimit: lowering is always allowed; raising a hard limit above nbuild's own is refused
  // before the build starts (src/sandbox/ulimit.ts), so EPERM here means the host changed.
  for (const auto& r : spec.rlimits) {
    struct rlimit lim = {r.soft, r.hard};
    if (setrlimit(r.resource, &lim) < 0) die("setrlimit " + r.name + " (--ulimit)", errno);
  }
  // Docker runs build steps with umask 022, whatever the invoking user's is;
  // otherwise the files a RUN makes would depend on the host (and break reproducibility).
  umask(022);
  if (chdir(spec.cwd.c_str()) < 0) die("chdir " + spec.cwd, errno);
  std::vector<char*> argv, envp;
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string exe = lookPath(spec);
  // Only stdin, stdout and stderr go on: not the helper's result channel (fd 3, where the step
  // could forge its own result), not a descriptor nbuild's caller left open (`exec 17>>file`).
  closeDescriptorsFrom(3);
  execve(exe.c_str(), argv.data(), envp.data());
  die("exec " + spec.args[0], errno);
  _exit(127);
}

namespace {

// PID 1: reap everything, forward termination signals to the command, report its status.
// It starts in its own network namespace unless the step uses the host's; with slirp4netns,
// `netGo` answers once slirp4netns has configured it (-1 otherwise).
int initMain(const Spec& spec, int out, int netGo) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setsid();
  // The helper's result channel is not init's to write (fd 4 stays for `nbuild run -i`).
  if (out != kEventFd && netGo != kEventFd) close(kEventFd);
  try {
    if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0) throwErrno("unshare mount/IPC/UTS namespaces");
    if (spec.ownNetwork()) loopbackUp();
    Tracker tracker(out, "/oldroot" + spec.changesDir());
    // Always userxattr, also as real root: the store's layers mark opaque folders with
    // user.overlay.opaque, which overlay only reads in that mode (Linux >= 5.11).
    setupRootfs(spec, tracker, true);
    if (sethostname(spec.hostname.data(), spec.hostname.size()) < 0) throwErrno("sethostname");
  } catch (const EngineError& e) {
    sendRecord(out, 'e', std::to_string(e.err) + " " + e.what());
    return 1;
  } catch (const std::exception& e) {
    sendRecord(out, 'e', std::string("0 ") + e.what());
    return 1;
  }
  if (netGo >= 0) {
    char c = 0;
    ssize_t n;
    while ((n = read(netGo, &c, 1)) < 0 && errno == EINTR) {
    }
    close(netGo);
    if (n != 1 || c != 'G') return 1;  // the helper reports why
  }
  const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : forwarded) sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // PID 1 only receives signals it handles; a no-op handler makes them deliverable to sigwait.
  for (int s : forwarded) signal(s, [](int) {});
  pid_t cmd = fork();
  if (cmd < 0) {
    sendRecord(out, 'e', std::to_string(errno) + " fork: " + std::strerror(errno));
    return 1;
  }
  if (cmd == 0) {
    close(out);
    execCommand(spec);
  }
  int status = 0;
  for (bool done = false; !done;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(cmd, sig);
      continue;
    }
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
      if (p == cmd) {
        status = st;
        done = true;
      }
  }
  if (WIFSIGNALED(status)) sendRecord(out, 's', std::to_string(WTERMSIG(status)));
  else sendRecord(out, 'x', std::to_string(WEXITSTATUS(status)));
  kill(-1, SIGKILL);  // daemons left behind by the command
  return 0;
}

bool onlyFuseMarks(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool only = true;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && !nb::isOpaque(n) && n != nb::kFuseOpaqueMarker) only = false;
  }
  closedir(d);
  return only;
}

// Removes what the sandbox added to the layer: its mount points first, then parents it copied up.
void cleanLayer(const std::string& dir, std::vector<std::string> paths) {
  auto depth = [](const std::string& p) { return std::count(p.begin(), p.end(), '/'); };
  std::sort(paths.begin(), paths.end(), [&](const std::string& a, const std::string& b) {
    return depth(a) != depth(b) ? depth(a) > depth(b) : a > b;
  });
  for (const auto& rel : paths) {
    std::string full = dir + "/" + rel;
    struct stat st;
    if (lstat(full.c_str(), &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      // ENOTEMPTY: the command wrote there, keep it. fuse-overlayfs marks a new dir opaque with
      // `.wh..wh..opq` and `.wh..opq` inside: a dir holding only those is still empty.
      if (rmdir(full.c_str()) < 0 && errno == ENOTEMPTY && onlyFuseMarks(full)) {
        unlink((full + "/" + nb::kOpaqueWhiteout).c_str());
        unlink((full + "/" + nb::kFuseOpaqueMarker).c_str());
        rmdir(full.c_str());
      }
    }
    else if (S_ISREG(st.st_mode) && st.st_size == 0) unlink(full.c_str());
  }
}

}  // namespace

int runMain() {
  Spec spec;
  try {
    spec = parseSpec(readAll(0));
  } catch (const std::exception& e) {
    emit("{\"type\":\"error\",\"errno\":0,\"message\":" + jsonQuote(e.what()) + "}");
    return 1;
  }
  // A descriptor nbuild's caller left open goes no further than here; kept: stdio, the result
  // channel (3) and, for `nbuild run -i`, the terminal's stdin (4).
  closeDescriptorsFrom(spec.stdinInherit ? 5 : 4);
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // nbuild died: abort like on SIGTERM
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = onAbort;
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
  if (spec.isolation == "chroot") {
    gChroot = true;
    try {
      emit(chrootRun(spec, gAborted, gInit));
    } catch (const EngineError& e) {
      emit("{\"type\":\"error\",\"errno\":" + std::to_string(e.err) + ",\"message\":" + jsonQuote(e.what()) + "}");
    } catch (const std::exception& e) {
      emit("{\"type\":\"error\",\"errno\":0,\"message\":" + jsonQuote(e.what()) + "}");
    }
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);  // init may die before it reads the network's answer
  const bool slirp = spec.network == "slirp4netns";
  int pipefd[2], netGo[2] = {-1, -1};
  if (pipe2(pipefd, O_CLOEXEC) < 0 || (slirp && pipe2(netGo, O_CLOEXEC) < 0)) {
    emit("{\"type\":\"error\",\"errno\":" + std::to_string(errno) + ",\"message\":\"pipe\"}");
    return 1;
  }
  // Only init goes into the new PID (and network) namespace (clone, not unshare + fork):
  // slirp4netns, forked next, stays out of it, where the step can neither see nor signal it, and
  // can join init's network namespace at once, while init sets up the root.
  const int nsFlags = CLONE_NEWPID | (spec.ownNetwork() ? CLONE_NEWNET : 0);
  pid_t init = static_cast<pid_t>(syscall(SYS_clone, nsFlags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (init < 0) {
    emit("{\"type\":\"error\",\"errno\":" + std::to_string(errno) + ",\"message\":" +
         jsonQuote(std::string(spec.ownNetwork() ? "new PID and network namespaces: " : "new PID namespace: ") + std::strerror(errno)) + "}");
    return 1;
  }
  if (init == 0) {
    close(pipefd[0]);
    if (slirp) close(netGo[1]);
    _exit(initMain(spec, pipefd[1], netGo[0]));
  }
  gInit = init;
  if (gAborted) kill(init, SIGKILL);
  close(pipefd[1]);
  pid_t slirpPid = -1;
  std::string netError;
  if (slirp) {
    close(netGo[0]);
    char c = 'G';
    try {
      slirpPid = startSlirp4netns(spec.slirp4netns, init, gAborted);
    } catch (const std::exception& e) {
      netError = e.what();
      c = 'F';
    }
    if (write(netGo[1], &c, 1) < 0) {
      // init is gone; its status tells
    }
    close(netGo[1]);
  }
  std::string data;
  try {
    data = readAll(pipefd[0]);
  } catch (...) {
  }
  close(pipefd[0]);
  int st;
  while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
  }
  stopSlirp4netns(slirpPid);
  std::vector<std::string> added;
  std::string result;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = data.find('\0', pos);
    if (end == std::string::npos) break;  // init was killed mid-record
    char tag = data[pos];
    std::string payload = data.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag == 'c' || tag == 'p') {
      added.push_back(payload);
    } else if (tag == 'x') {
      result = "{\"type\":\"exit\",\"exitCode\":" + payload + "}";
    } else if (tag == 's') {
      int sig = std::atoi(payload.c_str());
      result = "{\"type\":\"exit\",\"exitCode\":" + std::to_string(128 + sig) + ",\"signal\":" + jsonQuote(sigName(sig)) + "}";
    } else if (tag == 'e') {
      size_t sp = payload.find(' ');
      result = "{\"type\":\"error\",\"errno\":" + payload.substr(0, sp) + ",\"message\":" + jsonQuote(payload.substr(sp + 1)) + "}";
    }
  }
  cleanLayer(spec.changesDir(), added);
  if (!netError.empty() && result.empty())
    result = "{\"type\":\"error\",\"errno\":0,\"message\":" + jsonQuote("network: " + netError) + "}";
  if (gAborted) result = "{\"type\":\"aborted\"}";
  if (result.empty()) {
    std::string how = WIFSIGNALED(st) ? "killed by " + sigName(WTERMSIG(st)) : "exited with " + std::to_string(WEXITSTATUS(st));
    result = "{\"type\":\"error\",\"errno\":0,\"message\":" + jsonQuote("sandbox init " + how) + "}";
  }
  emit(result);
  return 0;
}

}  // namespace nbs
