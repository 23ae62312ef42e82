// The held user namespace: see userns_holder.h.
#include "sandbox/userns_holder.h"

#include "core/fd.h"
#include "sandbox/util.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <vector>

namespace nbs {

namespace {

constexpr int kDefaultKeep = 600;

// A small file (a /proc map, setgroups); false when it cannot be read.
bool readSmall(const std::string& path, std::string& out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return false;
  try {
    out = readAll(fd.get());
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

struct Extent {
  unsigned long inside, outside, count;
  bool operator<(const Extent& o) const { return inside < o.inside; }
  bool operator==(const Extent& o) const { return inside == o.inside && outside == o.outside && count == o.count; }
};

std::vector<Extent> parseMap(const std::string& text) {
  std::vector<Extent> out;
  const char* p = text.c_str();
  for (;;) {
    Extent e{};
    int used = 0;
    if (std::sscanf(p, " %lu %lu %lu%n", &e.inside, &e.outside, &e.count, &used) != 3) break;
    out.push_back(e);
    p += used;
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool mapIs(const std::string& file, unsigned long id, unsigned long start, unsigned long count) {
  std::string text;
  if (!readSmall(file, text)) return false;
  const std::vector<Extent> want{{0, id, 1}, {1, start, count}};
  return parseMap(text) == want;
}

// The pid a pid file names, if the file is ours and says one.
pid_t pidIn(const std::string& pidFile) {
  int fd = open(pidFile.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  struct stat st {};
  char buf[32] = {0};
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid()) n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  return pid > 1 && end != buf && (*end == '\n' || *end == 0) ? static_cast<pid_t>(pid) : -1;
}

}  // namespace

std::string holderPidFile() {
  const std::string name = "/nbuild-userns-" + std::to_string(getuid()) + ".pid";
  // XDG_RUNTIME_DIR only when it is this user's (runuser and sudo may pass on another user's).
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  struct stat st {};
  if (runtime && runtime[0] == '/' && stat(runtime, &st) == 0 && st.st_uid == getuid() && access(runtime, W_OK) == 0)
    return runtime + name;
  const char* tmp = std::getenv("TMPDIR");
  if (tmp && tmp[0] == '/' && access(tmp, W_OK) == 0) return tmp + name;
  return access("/tmp", W_OK) == 0 ? "/tmp" + name : "";
}

int holderKeepSeconds() {
  const char* text = std::getenv("NBUILD_USERNS_KEEP");
  if (!text || !*text) return kDefaultKeep;  // set empty: as unset
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(text, &end, 10);
  const bool digits = *text >= '0' && *text <= '9' && *end == 0 && errno == 0;
  return digits && v <= kMaxKeep ? static_cast<int>(v) : -1;
}

int openHeldUserns(const std::string& pidFile, const WantedMaps& want) {
  if (pidFile.empty()) return -1;
  const pid_t pid = pidIn(pidFile);
  if (pid < 0) return -1;
  const std::string proc = "/proc/" + std::to_string(pid);
  int ns = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  uid_t owner = static_cast<uid_t>(-1);
  struct stat held {}, now {};
  std::string setgroups;
  // Owned by this user (so setns needs no privilege and grants nothing the user could not make),
  // mapped as newuidmap/newgidmap would map it, setgroups allowed; and the pid still in that
  // namespace after the maps were read (they belong to the namespace, not to the process).
  const bool ok = ioctl(ns, NS_GET_OWNER_UID, &owner) == 0 && owner == want.uid &&
                  mapIs(proc + "/uid_map", want.uid, want.uidStart, want.uidCount) &&
                  mapIs(proc + "/gid_map", want.gid, want.gidStart, want.gidCount) &&
                  readSmall(proc + "/setgroups", setgroups) && setgroups == "allow\n" && fstat(ns, &held) == 0 &&
                  stat((proc + "/ns/user").c_str(), &now) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino;
  if (!ok) {
    close(ns);
    return -1;
  }
  utimensat(AT_FDCWD, pidFile.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);  // used: the holder stays
  return ns;
}

void startHolder(const std::string& pidFile, unsigned keepSeconds) {
  if (pidFile.empty() || keepSeconds == 0) return;
  // Twice forked, so that the holder is nobody's child here: init (or the nearest subreaper) reaps it.
  const pid_t first = fork();
  if (first < 0) return;
  if (first == 0) {
    if (fork() != 0) _exit(0);
    setsid();
    // Not the command's folder (a folder on a mount the user may want to unmount later).
    if (chdir("/") != 0) _exit(1);
    // Nothing of the command's: its stdout or stderr held open would keep a reader waiting.
    close_range(0, ~0U, 0);
    int null = open("/dev/null", O_RDWR);
    if (null == 0) {
      dup2(0, 1);
      dup2(0, 2);
    }
    const std::string keep = std::to_string(keepSeconds);
    const char* argv[] = {"nbuild-sandbox", "userns-hold", pidFile.c_str(), keep.c_str(), nullptr};
    const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
    execve("/proc/self/exe", const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    _exit(127);
  }
  while (waitpid(first, nullptr, 0) < 0 && errno == EINTR) {
  }
}

int holdMain(const char* pidFile, const char* seconds) {
  const std::string file = pidFile;
  char* end = nullptr;
  const unsigned long keep = std::strtoul(seconds, &end, 10);
  if (file.empty() || file[0] != '/' || *end != 0 || keep == 0) return 2;
  signal(SIGHUP, SIG_IGN);
  const std::string me = std::to_string(getpid());
  const std::string tmp = file + "." + me + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return 1;
  const std::string text = me + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written || rename(tmp.c_str(), file.c_str()) != 0) {
    unlink(tmp.c_str());
    return 1;
  }
  // Ends when another holder took the file, when it is gone, or after `keep` seconds in which no
  // command joined (each join touches the file).
  const unsigned long step = std::min<unsigned long>(keep, 30);
  for (;;) {
    sleep(static_cast<unsigned>(step));
    struct stat st {};
    if (pidIn(file) != getpid() || lstat(file.c_str(), &st) != 0) return 0;
    if (std::time(nullptr) - st.st_mtime >= static_cast<time_t>(keep)) {
      if (pidIn(file) == getpid()) unlink(file.c_str());
      return 0;
    }
  }
}

}  // namespace nbs
