#include "sandbox/spec.h"

#include <stdexcept>

#include "sandbox/json.h"

namespace nbs {

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
