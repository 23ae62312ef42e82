#include "sandbox/spec.h"

#include <stdexcept>

#include "sandbox/json.h"

namespace nbs {

namespace {

// docker's names (go-units ulimitNameMapping) to the kernel's resources.
decltype(RLIMIT_NOFILE) rlimitResource(const std::string& name) {
  static const std::pair<const char*, decltype(RLIMIT_NOFILE)> kNames[] = {
      {"core", RLIMIT_CORE},       {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},
      {"locks", RLIMIT_LOCKS},     {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
      {"rttime", RLIMIT_RTTIME},   {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
  };
  for (const auto& [n, r] : kNames)
    if (name == n) return r;
  throw std::runtime_error("spec: unknown rlimit " + name);
}

// A decimal count or "unlimited".
rlim_t rlimitValue(const std::string& text) {
  if (text == "unlimited") return RLIM_INFINITY;
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error("spec: bad rlimit value " + text);
  return static_cast<rlim_t>(std::stoull(text));
}

Rlimit parseRlimit(const Json& r) {
  if (r.kind != Json::Object) throw std::runtime_error("spec: rlimits must hold objects");
  Rlimit out;
  out.name = r.getString("name");
  out.resource = rlimitResource(out.name);
  out.soft = rlimitValue(r.getString("soft"));
  out.hard = rlimitValue(r.getString("hard"));
  if (out.hard != RLIM_INFINITY && (out.soft == RLIM_INFINITY || out.soft > out.hard))
    throw std::runtime_error("spec: rlimit " + out.name + ": soft above hard");
  return out;
}

}  // namespace

Spec parseSpec(const std::string& text) {
  Json j = parseJson(text);
  if (j.kind != Json::Object) throw std::runtime_error("spec: not an object");
  Spec s;
  const Json* root = j.get("rootfs");
  if (!root || root->kind != Json::Object) throw std::runtime_error("spec: rootfs missing");
  s.rootKind = root->getString("kind");
  if (s.rootKind == "overlay") {
    s.lowerDirs = root->getStrings("lowerDirs");
    s.upperDir = root->getString("upperDir");
    s.workDir = root->getString("workDir");
    if (s.upperDir.empty() || s.workDir.empty()) throw std::runtime_error("spec: overlay needs upperDir and workDir");
  } else if (s.rootKind == "dir") {
    s.rootPath = root->getString("path");
    if (s.rootPath.empty()) throw std::runtime_error("spec: dir rootfs needs a path");
    s.upperDir = root->getString("upperDir");  // a FUSE overlay mounted at path: its upper dir
  } else {
    throw std::runtime_error("spec: unknown rootfs kind " + s.rootKind);
  }
  s.args = j.getStrings("args");
  if (s.args.empty()) throw std::runtime_error("spec: args is empty");
  s.env = j.getStrings("env");
  s.cwd = j.getString("cwd", "/");
  if (s.cwd.empty() || s.cwd[0] != '/') throw std::runtime_error("spec: cwd must be absolute");
  s.uid = j.getUint("uid");
  s.gid = j.getUint("gid");
  if (const Json* g = j.get("additionalGids"); g && g->kind == Json::Array) {
    for (const auto& item : g->items) {
      if (item.kind != Json::Number || item.number < 0) throw std::runtime_error("spec: additionalGids must hold ids");
      s.additionalGids.push_back(static_cast<unsigned>(item.number));
    }
  }
  s.hostname = j.getString("hostname", "nbuild");
  s.network = j.getString("network", "host");
  if (s.network != "host" && s.network != "none" && s.network != "slirp4netns")
    throw std::runtime_error("spec: network must be host, none or slirp4netns");
  s.slirp4netns = j.getString("slirp4netns");
  if (s.network == "slirp4netns" && (s.slirp4netns.empty() || s.slirp4netns[0] != '/'))
    throw std::runtime_error("spec: network slirp4netns needs the absolute path of slirp4netns");
  s.hosts = j.getString("hosts");
  s.resolvConf = j.getString("resolvConf");
  s.isolation = j.getString("isolation", "namespaces");
  std::string in = j.getString("stdin", "null");
  if (in != "null" && in != "inherit") throw std::runtime_error("spec: stdin must be null or inherit");
  s.stdinInherit = in == "inherit";
  std::string sync = j.getString("syncCalls", "real");
  if (sync != "real" && sync != "skip") throw std::runtime_error("spec: syncCalls must be real or skip");
  s.skipSync = sync == "skip";
  if (const Json* rs = j.get("rlimits"); rs && rs->kind == Json::Array) {
    for (const auto& r : rs->items) s.rlimits.push_back(parseRlimit(r));
  }
  if (const Json* ms = j.get("mounts"); ms && ms->kind == Json::Array) {
    for (const auto& m : ms->items) {
      MountSpec ms1;
      ms1.type = m.getString("type");
      if (ms1.type != "bind" && ms1.type != "tmpfs" && ms1.type != "overlay")
        throw std::runtime_error("spec: mount type must be bind, tmpfs or overlay");
      ms1.source = m.getString("source");
      ms1.upperDir = m.getString("upperDir");
      ms1.workDir = m.getString("workDir");
      ms1.target = m.getString("target");
      ms1.readonly = m.getBool("readonly");
      ms1.options = m.getStrings("options");
      if (ms1.target.empty() || ms1.target[0] != '/') throw std::runtime_error("spec: mount target must be absolute");
      if (ms1.type != "tmpfs" && ms1.source.empty()) throw std::runtime_error("spec: bind mount needs a source");
      if (ms1.type == "overlay" && (ms1.upperDir.empty() || ms1.workDir.empty()))
        throw std::runtime_error("spec: overlay mount needs upperDir and workDir");
      s.mounts.push_back(ms1);
    }
  }
  return s;
}

}  // namespace nbs
