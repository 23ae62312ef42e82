// `nbuild-sandbox launch NODE ENTRY ARGS…`: what bin/nbuild runs. For commands that work in
// the user namespace (build, run, load, …) it forks a child that unshares one, writes the
// child's id maps itself (newuidmap/newgidmap with the user's subordinate ranges, or just the
// user's own id), and the child execs `NODE ENTRY ARGS…` as root of the namespace; this process
// stays as the user, relays SIGINT/SIGTERM/SIGHUP and exits with the child's status. Other
// commands (and root) exec NODE directly. Doing this here instead of in a first Node process
// saves one Node start-up per command (docs/decisions.md, "One Node process per command").
// src/sandbox/userns.ts starts other commands in a namespace through `launch --userns`.
// Why a namespace could not be made, or why only one id is mapped, is passed on to Node in the
// environment (NBUILD_USERNS_ERROR, NBUILD_IDMAP_SINGLE): src/sandbox/diagnose.ts names the
// cause and the fix.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sandbox/handback.h"
#include "sandbox/userns_holder.h"

namespace nbs {

int enterAndExec(char** argv, pid_t parent, int readyFd, int goFd, int heldNs, const std::string& holdFile, unsigned keep);

namespace {

// The commands whose modules declare `userns: true` (src/cli/commands/*.ts, whose handlers call
// enterUserNamespace()); test/cli/userns-commands.test.ts keeps these lists equal to the modules'.
// nbuild with no command name is `build`. A wrong guess only costs time: commands run as root of the
// namespace work too, and one run outside it re-executes itself from Node.
const char* const kUsernsCommands[] = {"build", "run", "tag", "prune", "store", "rmi", "load"};
const char* const kOtherCommands[] = {"completion", "version", "info", "pull", "push", "images", "inspect",
                                      "history", "save", "login", "logout", "check", "manifest", "help"};

bool isOneOf(const char* arg, const char* const* list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (std::strcmp(arg, list[i]) == 0) return true;
  return false;
}

bool wantsUserNamespace(int argc, char** argv) {
  if (argc == 0) return false;  // usage error, printed by the CLI
  for (int i = 0; i < argc; i++) {
    const char* a = argv[i];
    if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0 || std::strncmp(a, "--get-yargs-completions", 23) == 0)
      return false;
  }
  for (int i = 0; i < argc; i++) {
    if (isOneOf(argv[i], kUsernsCommands, sizeof kUsernsCommands / sizeof *kUsernsCommands)) return true;
    if (isOneOf(argv[i], kOtherCommands, sizeof kOtherCommands / sizeof *kOtherCommands)) return false;
  }
  return true;  // options and a context: the default command, build
}

struct Range {
  unsigned long start = 0, count = 0;
  bool found = false;
};

// The first range of /etc/subuid-style `file` for the user, by name or numeric id (shadow-utils' rule).
Range readSubIds(const char* file, const std::string& name, uid_t id) {
  Range r;
  FILE* f = std::fopen(file, "re");
  if (!f) return r;
  const std::string idText = std::to_string(id);
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    char* p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char* c1 = std::strchr(p, ':');
    if (!c1) continue;
    std::string owner(p, c1);
    if (owner != name && owner != idText) continue;
    char* end = nullptr;
    errno = 0;
    unsigned long start = std::strtoul(c1 + 1, &end, 10);
    if (errno || end == c1 + 1 || *end != ':') continue;
    char* countText = end + 1;
    unsigned long count = std::strtoul(countText, &end, 10);
    if (errno || end == countText || count == 0) continue;
    r = {start, count, true};
    break;
  }
  std::fclose(f);
  return r;
}

// A running newuidmap/newgidmap, with its stderr on a pipe.
struct IdMapTool {
  const char* name;
  pid_t pid = -1;
  int errFd = -1;
};

IdMapTool startIdMapTool(const char* tool, pid_t child, unsigned long id, const Range& range) {
  IdMapTool t{tool};
  int errPipe[2];
  if (pipe2(errPipe, O_CLOEXEC) < 0) return t;
  const std::string args[] = {std::to_string(child), "0", std::to_string(id), "1", "1", std::to_string(range.start),
                              std::to_string(range.count)};
  t.pid = fork();
  if (t.pid == 0) {
    dup2(errPipe[1], 2);
    const char* argv[] = {tool,           args[0].c_str(), args[1].c_str(), args[2].c_str(), args[3].c_str(),
                          args[4].c_str(), args[5].c_str(), args[6].c_str(), nullptr};
    execvp(tool, const_cast<char* const*>(argv));
    std::fprintf(stderr, "cannot run %s: %s", tool, std::strerror(errno));
    _exit(127);
  }
  close(errPipe[1]);
  t.errFd = errPipe[0];
  return t;
}

// Waits for the tool; on failure `why` gets its stderr (or what kept it from running).
bool finishIdMapTool(IdMapTool& t, std::string& why) {
  std::string err;
  if (t.errFd >= 0) {
    char buf[512];
    ssize_t n;
    while ((n = read(t.errFd, buf, sizeof buf)) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      err.append(buf, n);
    }
    close(t.errFd);
  }
  if (t.pid < 0) {
    why = std::string("cannot start ") + t.name;
    return false;
  }
  int status = 0;
  while (waitpid(t.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  why = err.empty() ? std::string(t.name) + " failed" : err;
  return false;
}

bool writeProcFile(pid_t child, const char* name, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(child) + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// The user's subordinate ranges, as newuidmap/newgidmap would read them.
struct SubIds {
  std::string name, subuidFile, subgidFile;
  Range uids, gids;
};

SubIds readUserSubIds(const std::string& subuidFile, const std::string& subgidFile) {
  const uid_t uid = getuid();
  const passwd* pw = getpwuid(uid);
  SubIds ids{pw ? pw->pw_name : std::to_string(uid), subuidFile, subgidFile, {}, {}};
  ids.uids = readSubIds(subuidFile.c_str(), ids.name, uid);
  ids.gids = readSubIds(subgidFile.c_str(), ids.name, uid);
  return ids;
}

bool onPath(const char* tool) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  for (const char* p = path;;) {
    const char* colon = std::strchr(p, ':');
    const std::string dir(p, colon ? static_cast<size_t>(colon - p) : std::strlen(p));
    if (!dir.empty() && access((dir + "/" + tool).c_str(), X_OK) == 0) return true;
    if (!colon) return false;
    p = colon + 1;
  }
}

// The full maps this command would write, when it would write them (ranges found, tools on PATH).
bool fullMaps(const SubIds& ids, WantedMaps& want) {
  if (!ids.uids.found || !ids.gids.found || !onPath("newuidmap") || !onPath("newgidmap")) return false;
  want = {getuid(), getgid(), ids.uids.start, ids.uids.count, ids.gids.start, ids.gids.count};
  return true;
}

// The maps for `child`: the user's subordinate ranges when newuidmap/newgidmap accept them,
// else only the user's own id (`single` says why: chown to other ids will fail in RUN).
bool writeMaps(pid_t child, const SubIds& ids, std::string& single) {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  const auto& [name, subuidFile, subgidFile, uids, gids] = ids;
  std::string fallback;
  bool uidDone = false, gidDone = false;
  if (uids.found && gids.found) {
    // Both at once: each is a setuid exec of a few milliseconds.
    IdMapTool u = startIdMapTool("newuidmap", child, uid, uids);
    IdMapTool g = startIdMapTool("newgidmap", child, gid, gids);
    std::string whyU, whyG;
    uidDone = finishIdMapTool(u, whyU);
    gidDone = finishIdMapTool(g, whyG);
    if (!uidDone || !gidDone) fallback = "newuidmap/newgidmap failed (" + (uidDone ? whyG : whyU) + ")";
  } else {
    fallback = std::string("no range for user \"") + name + "\" in " +
               (!uids.found && !gids.found ? subuidFile + " and " + subgidFile : !uids.found ? subuidFile : subgidFile);
  }
  // An unprivileged process may map its own id only, and gid_map only after denying setgroups.
  if (!uidDone && !writeProcFile(child, "uid_map", "0 " + std::to_string(uid) + " 1\n")) return false;
  if (!gidDone && (!writeProcFile(child, "setgroups", "deny\n") ||
                   !writeProcFile(child, "gid_map", "0 " + std::to_string(gid) + " 1\n")))
    return false;
  single = fallback;
  return true;
}

volatile pid_t gChild = 0;

// Signals sent to this process by another one (kill, timeout, a CI runner) go on to the child.
// Those the terminal sends (Ctrl-C: si_code SI_KERNEL) reach the whole foreground process
// group, the child included: relaying them too would deliver them twice.
void relay(int sig, siginfo_t* info, void*) {
  if (gChild > 0 && info->si_code != SI_KERNEL) kill(gChild, sig);
}

int execNode(char** argv) {
  unsetenv("NBUILD_IDMAP_SINGLE");
  execvp(argv[0], argv);
  std::fprintf(stderr, "nbuild: cannot run %s: %s\n", argv[0], std::strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

}  // namespace

// Two forms:
//   launch [--node-args "FLAGS"] NODE ENTRY ARGS…   bin/nbuild: enters the namespace when the
//       command needs it; FLAGS (split at spaces, e.g. "--cpu-prof", which NODE_OPTIONS refuses)
//       go between NODE and ENTRY. With --sea, NODE is nbuild's single executable (Node with
//       the CLI inside, src/cli/sea-main.ts) and there is no ENTRY.
//   launch --userns [--subid-files SUBUID:SUBGID] -- CMD ARGS…   always enters it (the one way
//       src/sandbox/userns.ts starts processes there; other id files only in tests).
int launchMain(int argc, char** argv) {
  std::vector<std::string> nodeFlags;
  std::string subuidFile = "/etc/subuid", subgidFile = "/etc/subgid";
  bool always = false, sea = false;
  for (;;) {
    if (argc >= 2 && std::strcmp(argv[0], "--node-args") == 0) {
      std::string flag;
      for (const char* p = argv[1];; p++) {
        if (*p == ' ' || *p == 0) {
          if (!flag.empty()) nodeFlags.push_back(flag);
          flag.clear();
          if (*p == 0) break;
        } else {
          flag += *p;
        }
      }
    } else if (argc >= 2 && std::strcmp(argv[0], "--subid-files") == 0 && std::strchr(argv[1], ':')) {
      const char* colon = std::strchr(argv[1], ':');
      subuidFile.assign(argv[1], static_cast<size_t>(colon - argv[1]));
      subgidFile = colon + 1;
    } else if (argc >= 1 && (std::strcmp(argv[0], "--userns") == 0 || std::strcmp(argv[0], "--sea") == 0)) {
      (std::strcmp(argv[0], "--sea") == 0 ? sea : always) = true;
      argc -= 1;
      argv += 1;
      continue;
    } else if (argc >= 1 && std::strcmp(argv[0], "--") == 0) {
      argc -= 1;
      argv += 1;
      break;
    } else {
      break;
    }
    argc -= 2;
    argv += 2;
  }
  const int program = always || sea ? 1 : 2;  // NODE ENTRY, or one program
  if (argc < program || (sea && !nodeFlags.empty())) {  // a single executable takes no Node flags in argv
    std::fprintf(stderr, "usage: nbuild-sandbox launch [--node-args FLAGS] NODE ENTRY [ARG…] | launch --sea PROGRAM [ARG…] | launch --userns [--subid-files U:G] -- CMD [ARG…]\n");
    return 2;
  }
  const bool userns = always || wantsUserNamespace(argc - program, argv + program);
  std::vector<char*> full;
  full.push_back(argv[0]);
  for (auto& f : nodeFlags) full.push_back(f.data());
  for (int i = 1; i < argc; i++) full.push_back(argv[i]);
  full.push_back(nullptr);
  argv = full.data();
  const char* inside = std::getenv("NBUILD_USERNS");
  if (!always && (geteuid() == 0 || (inside && std::strcmp(inside, "1") == 0))) return execNode(argv);
  if (!userns) return execNode(argv);

  // A namespace an earlier command left held, with the maps this one would write: joined instead.
  const int keep = holderKeepSeconds();
  if (keep < 0) {
    std::fprintf(stderr, "nbuild: NBUILD_USERNS_KEEP=%s: expected the seconds (0 to %lu) a held user namespace waits for the next command; 0 keeps none\n",
                 std::getenv("NBUILD_USERNS_KEEP"), kMaxKeep);
    return 2;
  }
  const SubIds ids = readUserSubIds(subuidFile, subgidFile);
  WantedMaps want;
  const bool fullyMapped = keep > 0 && fullMaps(ids, want);
  const std::string holdFile = fullyMapped ? holderPidFile() : std::string();
  const int heldNs = fullyMapped ? openHeldUserns(holdFile, want) : -1;
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
    std::fprintf(stderr, "nbuild: pipe: %s\n", std::strerror(errno));
    return 125;
  }
  // bin/nbuild only: `--load` into podman is handed back to this process (handback.h).
  HandBack handBack;
  if (!always) openHandBack(handBack);
  const pid_t self = getpid();
  const pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "nbuild: fork: %s\n", std::strerror(errno));
    return 125;
  }
  if (child == 0) {
    close(ready[0]);
    close(go[1]);
    announceHandBack(handBack);
    _exit(enterAndExec(argv, self, ready[1], go[0], heldNs, holdFile, static_cast<unsigned>(keep)));
  }
  if (heldNs >= 0) close(heldNs);
  keepReadEnd(handBack);
  close(ready[1]);
  close(go[0]);
  gChild = child;
  struct sigaction sa {};
  sa.sa_sigaction = relay;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  // SIGPIPE: writing "go" to a child that already died must not kill us.
  signal(SIGPIPE, SIG_IGN);

  // The child says 'J' (joined a held namespace), 'R' (ready for its maps) or 'E' and why it could
  // not unshare.
  char said[256];
  ssize_t n;
  do n = read(ready[0], said, sizeof said - 1);
  while (n < 0 && errno == EINTR);
  close(ready[0]);
  std::string single;
  if (n >= 1 && said[0] == 'R') {
    if (!writeMaps(child, ids, single)) {
      std::fprintf(stderr, "nbuild: cannot write the id maps of the user namespace: %s\n", std::strerror(errno));
      kill(child, SIGKILL);
    } else {
      // 'G', or 'S' and why only the user's own id is mapped (the child puts it in its environment).
      const std::string go1 = single.empty() ? "G" : "S" + single;
      if (write(go[1], go1.data(), go1.size()) != static_cast<ssize_t>(go1.size())) kill(child, SIGKILL);
    }
  }
  close(go[1]);
  // Node's exit line: its code, and no wait for its teardown (~15 ms of every command here);
  // without it (Node died, or an old kernel), its exit status.
  if (n >= 1 && (said[0] == 'R' || said[0] == 'J')) {
    const int code = awaitExit(handBack, child);
    if (code >= 0) return runHandBack(handBack, code);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 125;
  }
  if (n >= 1 && said[0] == 'E') {
    const std::string why(said + 1, static_cast<size_t>(n - 1));
    if (always) {
      std::fprintf(stderr, "nbuild: cannot create a user namespace: %s\n", why.c_str());
      return 125;
    }
    // bin/nbuild: run the CLI outside; it explains the cause and the fix (src/sandbox/diagnose.ts).
    setenv("NBUILD_USERNS_ERROR", why.c_str(), 1);
    return execNode(argv);
  }
  if (WIFEXITED(status)) return runHandBack(handBack, WEXITSTATUS(status));
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 1);
}

}  // namespace nbs
