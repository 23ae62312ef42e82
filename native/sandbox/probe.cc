// `nbuild-sandbox probe DIR`: tries, in a throw-away mount namespace, what RUN needs, and prints
// one JSON object. DIR must be an empty directory the caller owns; it is left with empty subdirs.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/overlay.h"
#include "sandbox/rootfs.h"
#include "sandbox/tree.h"
#include "sandbox/util.h"

namespace nbs {
namespace {

std::string field(const char* name, bool ok, const std::string& why) {
  return jsonQuote(name) + ":{\"ok\":" + (ok ? "true" : "false") + ",\"error\":" + jsonQuote(why) + "}";
}

// Runs `fn` in a forked child so that namespaces it unshares do not leak into later probes.
template <typename F>
std::string inChild(const char* name, F fn) {
  int p[2];
  if (pipe(p) < 0) return field(name, false, std::strerror(errno));
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string why;
    try {
      fn();
    } catch (const std::exception& e) {
      why = e.what();
    }
    writeAll(p[1], why);
    _exit(why.empty() ? 0 : 1);
  }
  close(p[1]);
  std::string why = readAll(p[0]);
  close(p[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  if (!ok && why.empty()) why = "probe crashed";
  return field(name, ok, why);
}

}  // namespace

int probeMain(const char* dirArg) {
  const std::string dir = dirArg;
  for (const char* d : {"/lower", "/upper", "/work", "/merged"}) mkdir((dir + d).c_str(), 0755);
  bool userxattr = inUserNamespace();
  std::string out = "{\"userNamespace\":" + std::string(userxattr ? "true" : "false") + ",";
  out += inChild("mountNamespace", [] {
    if (unshare(CLONE_NEWNS) < 0) throwErrno("unshare mount namespace");
  }) + ",";
  out += inChild("pidNamespace", [] {
    if (unshare(CLONE_NEWPID) < 0) throwErrno("unshare PID namespace");
  }) + ",";
  out += inChild("networkNamespace", [] {
    if (unshare(CLONE_NEWNET) < 0) throwErrno("unshare network namespace");
  }) + ",";
  out += inChild("overlay", [&] {
    if (unshare(CLONE_NEWNS) < 0) throwErrno("unshare mount namespace");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) throwErrno("make / private");
    mountOverlayAt({dir + "/lower"}, dir + "/upper", dir + "/work", dir + "/merged", true);
    // Deleting a lower file must leave a whiteout (a 0/0 character device) in the upper dir.
    writeFile(dir + "/merged/.probe", "", 0644);
    if (unlink((dir + "/merged/.probe").c_str()) < 0) throwErrno("unlink on overlay");
    umount2((dir + "/merged").c_str(), MNT_DETACH);
  }) + ",";
  out += inChild("whiteout", [&] {
    std::string wh = dir + "/upper/.wh-probe";
    if (nb::makeWhiteoutDevice(wh) < 0) throwErrno("mknod 0/0 whiteout");
    unlink(wh.c_str());
  }) + ",";
  out += inChild("chroot", [&] {
    if (chroot(dir.c_str()) < 0) throwErrno("chroot");
  });
  out += "}\n";
  for (const char* d : {"/lower", "/upper", "/work", "/merged"}) {
    try {
      removeAll(dir + d);
    } catch (...) {
    }
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace nbs
