#include "sandbox/rootfs.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/safe_path.h"
#include "sandbox/util.h"

namespace nbs {
namespace {

// Host paths stay reachable under this prefix after the first pivot_root (bubblewrap's trick).
const std::string kOld = "/oldroot";
const std::string kNew = "/newroot";
const std::string kFiles = "/files";

std::string fdPath(int fd) { return kOld + "/proc/self/fd/" + std::to_string(fd); }

// Every path in the image is opened with the root as "/" (core's openInRoot), so an image
// cannot point a mount outside.
using nb::openInRoot;

// The path of an open file relative to the new root, as the layer will record it.
std::string relOf(int fd) {
  char buf[PATH_MAX];
  ssize_t n = readlink(fdPath(fd).c_str(), buf, sizeof buf - 1);
  if (n < 0) throwErrno("readlink");
  std::string p(buf, static_cast<size_t>(n));
  if (p == kNew) return "";
  if (p.compare(0, kNew.size() + 1, kNew + "/") != 0) throw std::runtime_error("mount point escaped the root: " + p);
  return p.substr(kNew.size() + 1);
}

enum class Kind { Dir, File };

// Makes `path` exist in the new root (mkdir -p or an empty file) and returns an O_PATH fd to it.
UniqueFd ensure(int root, const std::string& path, Kind kind, Tracker* tracker) {
  auto parts = splitPath(path);
  std::string cur;
  for (size_t i = 0; i < parts.size(); i++) {
    bool last = i + 1 == parts.size();
    std::string next = cur.empty() ? parts[i] : cur + "/" + parts[i];
    UniqueFd fd(openInRoot(root, next, O_PATH));
    if (fd.valid()) {
      if (last) return fd;
      struct stat st;
      if (fstat(fd.get(), &st) < 0 || !S_ISDIR(st.st_mode)) throw sysError("mount point " + path + ": " + next, ENOTDIR);
      cur = next;
      continue;
    }
    if (errno != ENOENT) throwErrno("open " + next + " in the root");
    UniqueFd parent(openInRoot(root, cur, O_PATH | O_DIRECTORY));
    if (!parent.valid()) throwErrno("open " + cur + " in the root");
    std::string parentRel = relOf(parent.get());
    if (tracker) tracker->beforeCreate(parentRel);
    if (!last || kind == Kind::Dir) {
      if (mkdirat(parent.get(), parts[i].c_str(), 0755) < 0 && errno != EEXIST) throwErrno("mkdir " + next);
    } else {
      // O_PATH fds cannot create; reopen the parent for real through its magic link.
      UniqueFd dir(open(fdPath(parent.get()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir.valid()) throwErrno("open " + cur);
      UniqueFd f(openat(dir.get(), parts[i].c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f.valid()) throwErrno("create " + next);
    }
    if (tracker) tracker->created(parentRel.empty() ? parts[i] : parentRel + "/" + parts[i]);
    cur = next;
  }
  UniqueFd fd(openInRoot(root, cur, O_PATH));
  if (!fd.valid()) throwErrno("open " + path + " in the root");
  return fd;
}

void doMount(const std::string& source, int targetFd, const char* type, unsigned long flags, const std::string& data,
             const std::string& what) {
  if (mount(source.c_str(), fdPath(targetFd).c_str(), type, flags, data.empty() ? nullptr : data.c_str()) < 0)
    throwErrno("mount " + what);
}

// Read-only remount of a bind mount; in a user namespace the source's locked flags must be kept.
void remountReadonly(int targetFd, const std::string& what) {
  struct statvfs sv;
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
  if (fstatvfs(targetFd, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  }
  if (mount("none", fdPath(targetFd).c_str(), nullptr, flags, nullptr) < 0) throwErrno("remount read-only " + what);
}

std::string fsLog(int fs) {
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = read(fs, buf, sizeof buf - 1);
    if (n <= 0) break;
    if (!out.empty()) out += "; ";
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The new mount API through syscall(2): glibc wraps it only from 2.36, and the prebuilt helper
// runs on glibc 2.34 (scripts/build-prebuilt.sh checks).
int sysFsopen(const char* name, unsigned flags) { return static_cast<int>(syscall(SYS_fsopen, name, flags)); }
int sysFsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sysFsmount(int fd, unsigned flags, unsigned attrs) { return static_cast<int>(syscall(SYS_fsmount, fd, flags, attrs)); }
int sysMoveMount(int from, const char* fromPath, int to, const char* toPath, unsigned flags) {
  return static_cast<int>(syscall(SYS_move_mount, from, fromPath, to, toPath, flags));
}

// The new mount API takes one lower layer per call (`lowerdir+`, Linux 6.8), so the stack is not
// limited by the one-page option string of mount(2). Returns false when the kernel lacks it.
// `target` is a path, or with targetFd >= 0 an O_PATH fd to the mount point (then `target` only names it).
bool overlayNewApi(const std::vector<std::string>& lowers, const std::string& upper, const std::string& work,
                   const std::string& target, bool userxattr, int targetFd) {
  int fs = sysFsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) {
    if (errno == ENOSYS) return false;
    throwErrno("fsopen overlay");
  }
  UniqueFd guard(fs);
  auto fail = [&](const std::string& what) {
    int e = errno;
    std::string log = fsLog(fs);
    throw sysError("overlay " + what + (log.empty() ? "" : " (" + log + ")"), e);
  };
  for (size_t i = 0; i < lowers.size(); i++) {
    if (sysFsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) < 0) {
      if (i == 0 && errno == EINVAL) {
        fsLog(fs);
        return false;  // before Linux 6.8
      }
      fail("lower dir " + lowers[i]);
    }
  }
  if (!upper.empty()) {
    if (sysFsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) < 0) fail("upper dir " + upper);
    if (sysFsconfig(fs, FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) < 0) fail("work dir " + work);
  }
  if (userxattr && sysFsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) < 0) fail("option userxattr");
  if (sysFsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) fail("mount");
  int mnt = sysFsmount(fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) fail("fsmount");
  UniqueFd mguard(mnt);
  int moved = targetFd >= 0 ? sysMoveMount(mnt, "", targetFd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
                            : sysMoveMount(mnt, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
  if (moved < 0) throwErrno("move overlay mount to " + target);
  return true;
}

void overlayLegacy(const std::vector<std::string>& lowers, const std::string& upper, const std::string& work,
                   const std::string& target, bool userxattr, int targetFd) {
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); i++) opts += (i ? ":" : "") + lowers[i];
  opts += ",upperdir=" + upper + ",workdir=" + work;
  if (userxattr) opts += ",userxattr";
  if (opts.size() >= static_cast<size_t>(getpagesize()))
    throw std::runtime_error("overlay: " + std::to_string(lowers.size()) +
                             " lower layers do not fit in one mount(2) option page on this kernel (< 6.8)");
  std::string at = targetFd >= 0 ? fdPath(targetFd) : target;
  if (mount("overlay", at.c_str(), "overlay", 0, opts.c_str()) < 0) throwErrno("mount overlay on " + target);
}

// A tmpfs replaces the host's /dev: device nodes cannot be made in a user namespace, so the
// harmless ones are bind-mounted from the host.
void setupDev(int root, Tracker& tracker) {
  UniqueFd dev(ensure(root, "dev", Kind::Dir, &tracker));
  doMount("tmpfs", dev.get(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k", "/dev");
  const std::string d = kNew + "/dev/";
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    writeFile(d + name, "", 0666);
    if (mount((kOld + "/dev/" + name).c_str(), (d + name).c_str(), nullptr, MS_BIND, nullptr) < 0)
      throwErrno(std::string("bind /dev/") + name);
  }
  const std::pair<const char*, const char*> links[] = {
      {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
      {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"}, {"core", "/proc/kcore"}};
  for (const auto& [name, to] : links)
    if (symlink(to, (d + name).c_str()) < 0) throwErrno(std::string("symlink /dev/") + name);
  for (const char* dir : {"pts", "shm", "mqueue"})
    if (mkdir((d + dir).c_str(), 0755) < 0) throwErrno(std::string("mkdir /dev/") + dir);
  // gid 5 (tty) may be unmapped with a single-id mapping: retry without it.
  const std::string pts = d + "pts";
  if (mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0 &&
      mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
    throwErrno("mount /dev/pts");
  if (mount("shm", (d + "shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0)
    throwErrno("mount /dev/shm");
  // mqueue needs the new IPC namespace; a failure here only costs POSIX queues.
  mount("mqueue", (d + "mqueue").c_str(), "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
}

void setupSys(int root, Tracker& tracker, bool ownNetns) {
  UniqueFd sys(ensure(root, "sys", Kind::Dir, &tracker));
  const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  // sysfs may only be mounted by the owner of the network namespace; else bind the host's.
  if (ownNetns && mount("sysfs", fdPath(sys.get()).c_str(), "sysfs", ro, nullptr) == 0) return;
  doMount(kOld + "/sys", sys.get(), nullptr, MS_BIND | MS_REC, "", "/sys");
  UniqueFd again(openInRoot(root, "sys", O_PATH));
  remountReadonly(again.get(), "/sys");
}

void bindFile(int root, const std::string& source, const std::string& target, Tracker& tracker) {
  UniqueFd t(ensure(root, target, Kind::File, &tracker));
  doMount(source, t.get(), nullptr, MS_BIND, "", target);
}

void mountOverlay(const std::vector<std::string>& lowers, const std::string& upper, const std::string& work,
                  const std::string& target, bool userxattr, int targetFd) {
  if (!overlayNewApi(lowers, upper, work, target, userxattr, targetFd))
    overlayLegacy(lowers, upper, work, target, userxattr, targetFd);
}

void setupUserMounts(int root, const Spec& spec, Tracker& tracker, bool userxattr) {
  int n = 0;
  for (const auto& m : spec.mounts) {
    if (m.type == "overlay") {
      // A rw bind: writes go to a throw-away upper, never to the source. The source is first
      // bound at a short path of the staging tmpfs, so no character of its host path can be
      // read as an option separator.
      std::string lower = "/lower" + std::to_string(n++);
      if (mkdir(lower.c_str(), 0755) < 0) throwErrno("mkdir " + lower);
      if (mount((kOld + m.source).c_str(), lower.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throwErrno("bind mount source " + m.source);
      UniqueFd t(ensure(root, m.target, Kind::Dir, &tracker));
      mountOverlay({lower}, kOld + m.upperDir, kOld + m.workDir, m.target, userxattr, t.get());
      continue;
    }
    if (m.type == "tmpfs") {
      UniqueFd t(ensure(root, m.target, Kind::Dir, &tracker));
      std::string data;
      for (const auto& o : m.options) data += (data.empty() ? "" : ",") + o;
      doMount("tmpfs", t.get(), "tmpfs", MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0), data, m.target);
      continue;
    }
    std::string source = kOld + m.source;
    struct stat st;
    if (stat(source.c_str(), &st) < 0) throwErrno("mount source " + m.source);
    UniqueFd t(ensure(root, m.target, S_ISDIR(st.st_mode) ? Kind::Dir : Kind::File, &tracker));
    doMount(source, t.get(), nullptr, MS_BIND | MS_REC, "", m.target);
    if (m.readonly) {
      UniqueFd again(openInRoot(root, m.target, O_PATH));
      remountReadonly(again.get(), m.target);
    }
  }
}

// Step 1: a private tmpfs becomes "/", the host root moves to /oldroot.
void pivotToStaging() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) throwErrno("make / private");
  const char* base = nullptr;
  for (const char* c : {"/tmp", "/mnt", "/run", "/var/tmp"}) {
    struct stat st;
    if (stat(c, &st) == 0 && S_ISDIR(st.st_mode)) {
      base = c;
      break;
    }
  }
  if (!base) throw std::runtime_error("no directory to stage the root in (/tmp, /mnt, /run)");
  if (mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16m") < 0) throwErrno("mount staging tmpfs");
  if (chdir(base) < 0) throwErrno("chdir staging");
  for (const char* d : {"oldroot", "newroot", "files", "empty"})
    if (mkdir(d, 0755) < 0) throwErrno(std::string("mkdir ") + d);
  if (syscall(SYS_pivot_root, ".", "oldroot") < 0) throwErrno("pivot_root to staging");
  if (chdir("/") < 0) throwErrno("chdir /");
}

}  // namespace

void sendRecord(int fd, char tag, const std::string& payload) {
  std::string rec(1, tag);
  rec += payload;
  rec += '\0';
  writeAll(fd, rec);
}

void Tracker::send(char tag, const std::string& rel) {
  if (rel.empty() || !sent_.insert(rel).second) return;
  sendRecord(fd_, tag, rel);
}

void Tracker::beforeCreate(const std::string& parentRel) {
  auto parts = splitPath(parentRel);
  std::string cur;
  for (const auto& p : parts) {
    cur = cur.empty() ? p : cur + "/" + p;
    struct stat st;
    if (lstat((changesDir_ + "/" + cur).c_str(), &st) < 0 && errno == ENOENT) send('p', cur);
  }
}

void Tracker::created(const std::string& rel) { send('c', rel); }

void mountOverlayAt(const std::vector<std::string>& lowers, const std::string& upper, const std::string& work,
                    const std::string& target, bool userxattr) {
  mountOverlay(lowers, upper, work, target, userxattr, -1);
}

void setupRootfs(const Spec& spec, Tracker& tracker, bool userxattr) {
  pivotToStaging();
  writeFile(kFiles + "/hosts", spec.hosts, 0644);
  writeFile(kFiles + "/resolv.conf", spec.resolvConf, 0644);
  writeFile(kFiles + "/hostname", spec.hostname + "\n", 0644);
  if (spec.rootKind == "overlay") {
    std::vector<std::string> lowers;
    for (const auto& l : spec.lowerDirs) lowers.push_back(kOld + l);
    if (lowers.empty()) lowers.push_back("/empty");  // FROM scratch: overlay needs one lower
    mountOverlayAt(lowers, kOld + spec.upperDir, kOld + spec.workDir, kNew, userxattr);
  } else if (mount((kOld + spec.rootPath).c_str(), kNew.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    throwErrno("bind root " + spec.rootPath);
  }
  UniqueFd root(open(kNew.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) throwErrno("open new root");
  UniqueFd proc(ensure(root.get(), "proc", Kind::Dir, &tracker));
  doMount("proc", proc.get(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "", "/proc");
  setupDev(root.get(), tracker);
  setupSys(root.get(), tracker, spec.ownNetwork());
  bindFile(root.get(), kFiles + "/hosts", "etc/hosts", tracker);
  bindFile(root.get(), kFiles + "/resolv.conf", "etc/resolv.conf", tracker);
  bindFile(root.get(), kFiles + "/hostname", "etc/hostname", tracker);
  setupUserMounts(root.get(), spec, tracker, userxattr);
  // The working directory is part of the step, like runc creating a missing cwd.
  UniqueFd cwd(ensure(root.get(), spec.cwd, Kind::Dir, nullptr));
  if (chdir(kNew.c_str()) < 0) throwErrno("chdir new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) throwErrno("pivot_root");
  // The old root (host + staging) is stacked under "."; detaching it leaves only the new root.
  if (umount2(".", MNT_DETACH) < 0) throwErrno("detach old root");
  if (chdir("/") < 0) throwErrno("chdir /");
}

}  // namespace nbs
