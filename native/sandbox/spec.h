// The RUN spec as the helper sees it (mirror of SandboxSpec in src/sandbox/spec.ts).
#pragma once
#include <string>
#include <sys/resource.h>
#include <vector>

namespace nbs {

struct MountSpec {
  std::string type;  // "bind" | "tmpfs" | "overlay" (a throw-away layer over `source`)
  std::string source;
  std::string upperDir, workDir;  // overlay
  std::string target;
  bool readonly = false;
  std::vector<std::string> options;
};

// `--ulimit`: one resource limit, set with setrlimit just before the command's exec.
struct Rlimit {
  std::string name;  // docker's: nofile, nproc, … (the resource is looked up in run.cc)
  decltype(RLIMIT_NOFILE) resource = RLIMIT_NOFILE;  // glibc's enum, musl's int
  rlim_t soft = 0, hard = 0;
};

struct Spec {
  std::string rootKind;  // "overlay" | "dir"
  std::vector<std::string> lowerDirs;  // top-most first
  std::string upperDir, workDir, rootPath;
  std::vector<std::string> args, env;
  std::string cwd = "/";
  unsigned uid = 0, gid = 0;
  std::vector<unsigned> additionalGids;
  std::string hostname = "nbuild";
  // "host": the helper's own; "none": a new namespace with only lo; "slirp4netns": a new
  // namespace with tap0 connected by the slirp4netns program at `slirp4netns`.
  std::string network = "host";
  std::string slirp4netns;
  bool ownNetwork() const { return network != "host"; }
  std::string hosts, resolvConf;
  std::vector<MountSpec> mounts;
  // "namespaces" (default) or "chroot": no PID/IPC/UTS namespaces, for hosts that refuse them.
  std::string isolation = "namespaces";
  // "inherit": the command's stdin is the helper's fd 4 (`nbuild run -i`); else /dev/null.
  bool stdinInherit = false;
  // "skip" (RUN steps by default): the command's sync calls return 0 without syncing. "real": kept.
  bool skipSync = false;
  std::vector<Rlimit> rlimits;
  // The directory whose contents are the layer: upperDir for overlay and for a dir that is a
  // fuse-overlayfs mount (upperDir given), else rootPath.
  const std::string& changesDir() const { return rootKind == "overlay" || !upperDir.empty() ? upperDir : rootPath; }
};

Spec parseSpec(const std::string& json);

}  // namespace nbs
