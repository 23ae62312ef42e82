#include "core/layer_extractor.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <pthread.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "core/merged_view.h"
#include "core/safe_path.h"
#include "core/tar_reader.h"
#include "core/overlay.h"

namespace nb {

namespace {

constexpr size_t kChunk = 1 << 20;
// File writer threads. Two keep the page-cache copies and per-file syscalls (the largest
// share of an extraction's CPU after decompression) off any single thread.
constexpr unsigned kWriters = 2;
constexpr size_t kHole = 4096;

bool allZero(const uint8_t* p, size_t n) {
  return n && p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

void writeAll(int fd, const uint8_t* p, size_t n, off_t off, const std::string& path) {
  while (n) {
    ssize_t r = pwrite(fd, p, n, off);
    if (r < 0) {
      if (errno == EINTR) continue;
      throwSys("pwrite", path);
    }
    p += r;
    n -= size_t(r);
    off += r;
  }
}


// What the parser hands to the file writer: a run of a regular file's data (page-aligned
// except at the file's end; all-zero pages become holes), or the end of a file (its size,
// owner, mode, xattrs and mtime are set and it is closed). Namespace operations (create,
// link, unlink, mkdir) stay on the parser thread, in tar order; the writer only works through
// the fds it is given, so it can trail behind without changing what any path resolves to.
struct FileOp {
  int fd = -1;  // data: borrowed from the end op of the same file, which comes later
  off_t off = 0;
  const uint8_t* p = nullptr;
  size_t n = 0;
  ChunkRef ref;                    // keeps p alive: a tar chunk
  std::unique_ptr<uint8_t[]> own;  // or: a page put together from two chunks
  bool end = false;
  UniqueFd file;
  uint64_t size = 0;
  uint32_t mode = 0;
  int64_t mtime = 0;
  bool chown = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::map<std::string, std::string> xattrs;
  std::string rel;
};

class FileWriter {
 public:
  explicit FileWriter(const ExtractOptions& o) : o_(o) { thread_ = std::thread([this] { run(); }); }
  ~FileWriter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Queues an op; ops are handed over in batches (fewer wake-ups), and always before the
  // batch would reference a second tar chunk, so the parser never sits on many chunks.
  void add(FileOp&& op) {
    if (!batch_.empty() && op.ref && batchChunk_ && op.ref.get() != batchChunk_) publish();
    if (op.ref) batchChunk_ = op.ref.get();
    batch_.push_back(std::move(op));
    if (batch_.size() >= kBatch) publish();
  }
  void publish() {
    if (batch_.empty()) return;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return (pending_ < kMaxPending && files_ < kMaxFiles) || failed_; });
    if (failed_) throw *error_;
    pending_ += batch_.size();
    for (auto& op : batch_) {
      files_ += op.end;
      queue_.push_back(std::move(op));
    }
    batch_.clear();
    batchChunk_ = nullptr;
    lock.unlock();
    cv_.notify_all();
  }
  // Waits until every op is done; throws the first error.
  void finish() {
    publish();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return pending_ == 0 || failed_; });
    if (failed_) throw *error_;
  }

 private:
  // kMaxFiles bounds the open files (each file's fd stays open until its end op is done).
  static constexpr size_t kBatch = 32, kMaxPending = 2048, kMaxFiles = 256;
  void run();
  void apply(FileOp& op);
  void put(FileOp& op);
  void end(FileOp& op);
  std::string full(const std::string& rel) const { return o_.destDir + "/" + rel; }

  const ExtractOptions& o_;
  std::vector<FileOp> batch_;
  Chunk* batchChunk_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FileOp> queue_;
  size_t pending_ = 0, files_ = 0;  // ops and files handed over and not yet done
  bool stop_ = false, failed_ = false;
  std::optional<EngineError> error_;
  bool hole_ = false;  // the current file got a hole
  std::thread thread_;
};

void FileWriter::run() {
  pthread_setname_np(pthread_self(), "nb-write");
  std::deque<FileOp> work;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      work.swap(queue_);
    }
    size_t n = work.size(), files = 0;
    for (auto& op : work) files += op.end;
    for (auto& op : work) {
      if (failed_) break;  // only this thread sets it
      try {
        apply(op);
      } catch (const EngineError& e) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = e;
        failed_ = true;
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = EngineError("INTERNAL", e.what());
        failed_ = true;
      }
    }
    work.clear();  // closes the files of dropped ops, frees the chunks
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ -= n;
      files_ -= files;
    }
    cv_.notify_all();
  }
}

void FileWriter::apply(FileOp& op) {
  if (op.end) return end(op);
  put(op);
}

// All-zero pages (4 KiB-aligned in the file) become holes: sparse files stay sparse and
// cost no writes. Runs of other pages go out in one pwrite.
void FileWriter::put(FileOp& op) {
  const uint8_t* p = op.own ? op.own.get() : op.p;
  size_t n = op.n, at = 0;
  while (at < n) {
    size_t run = at;
    while (run < n && !(n - run >= kHole && allZero(p + run, kHole))) run += std::min(kHole, n - run);
    if (run > at) writeAll(op.fd, p + at, run - at, op.off + off_t(at), full(op.rel));
    size_t zeros = run;
    while (zeros < n && n - zeros >= kHole && allZero(p + zeros, kHole)) zeros += kHole;
    if (zeros > run) hole_ = true;
    at = zeros;
  }
}

// Owner first: chown clears setuid/setgid bits, so the mode goes on after it.
void FileWriter::end(FileOp& op) {
  bool hole = std::exchange(hole_, false);
  int fd = op.file.get();
  if (hole && ftruncate(fd, off_t(op.size)) != 0) throwSys("ftruncate", full(op.rel));
  if (op.chown && fchown(fd, op.uid, op.gid) != 0) {
    // EINVAL: the id is not mapped in this user namespace (single-id rootless).
    if (!(o_.ignoreChownErrors && (errno == EINVAL || errno == EPERM))) throwSys("fchownat", full(op.rel));
  }
  if (fchmod(fd, op.mode) != 0) throwSys("fchmod", full(op.rel));
  for (const auto& [k, v] : op.xattrs) {
    if (k.find(".overlay.") != std::string::npos) continue;
    if (fsetxattr(fd, k.c_str(), v.data(), v.size(), 0) != 0) {
      if (errno == ENOTSUP || ((o_.ignoreChownErrors || o_.addArchive) && (errno == EPERM || errno == EINVAL))) continue;
      throwSys("fsetxattr", full(op.rel));
    }
  }
  struct timespec ts[2] = {{op.mtime, 0}, {op.mtime, 0}};
  if (futimens(fd, ts) != 0) throwSys("futimens", full(op.rel));
}

class Extractor {
 public:
  Extractor(const ExtractOptions& o, int rootFd)
      : o_(o),
        root_(rootFd),
        resolver_(rootFd, o.destDir, o.addArchive ? RootResolver::AboveRoot::StayAtRoot : RootResolver::AboveRoot::Refuse),
        euid_(geteuid()),
        egid_(getegid()) {
    for (unsigned i = 0; i < kWriters; i++) writers_.push_back(std::make_unique<FileWriter>(o));
  }
  void run(TarReader& tar);

 private:
  struct Target {
    std::vector<std::string> comps;
    std::string rel, base;
    int parent;
  };
  int parentOf(const std::vector<std::string>& comps);
  void forget(const std::string& rel);
  void apply(TarReader& tar, TarEntry& e);
  void whiteout(const Target& t);
  void writeFile(TarReader& tar, const TarEntry& e, const Target& t);
  void makeDir(const TarEntry& e, const Target& t);
  void hardLink(const TarEntry& e, const Target& t);
  void setMeta(const TarEntry& e, const Target& t, int fd);
  void clearForNonDir(const Target& t);
  template <typename Op>
  int createReplacing(const Target& t, Op op);
  void chownChecked(int dirFd, const char* name, const TarEntry& e, int flags, const std::string& rel);
  bool hostIds(const TarEntry& e, const std::string& rel, uid_t* uid, gid_t* gid);
  bool ownedAlready(uid_t uid, gid_t gid);
  void setXattrs(int fd, const TarEntry& e, const std::string& rel);
  // An ADD archive's "/etc/x" is "etc/x" below the destination (a layer's is refused).
  std::string entryName(const std::string& name) const {
    return o_.addArchive ? name.substr(std::min(name.size(), name.find_first_not_of('/'))) : name;
  }
  std::string full(const std::string& rel) const { return o_.destDir + "/" + rel; }

  const ExtractOptions& o_;
  int root_;
  RootResolver resolver_;
  std::string cachedRel_ = "\x01";  // the last parent opened (entries come grouped by folder)
  UniqueFd cachedFd_;
  int cachedSetgid_ = -1;  // whether the cached parent is setgid (new entries take its group); -1: not looked at
  uid_t euid_;
  gid_t egid_;
  std::unordered_set<std::string> created_;  // this layer's own paths, kept by opaque markers
  std::vector<std::pair<std::vector<std::string>, int64_t>> dirTimes_;
  // Last: stopped (and their fds closed) before anything else goes. Each file goes to one
  // writer (its data runs in order, then its end), files taken in turn.
  std::vector<std::unique_ptr<FileWriter>> writers_;
  size_t nextWriter_ = 0;
};

int Extractor::parentOf(const std::vector<std::string>& comps) {
  std::string rel;
  for (size_t i = 0; i + 1 < comps.size(); i++) rel += (i ? "/" : "") + comps[i];
  if (rel != cachedRel_) {
    cachedFd_ = resolver_.openDir(comps, comps.size() - 1, true);
    cachedRel_ = rel;
    cachedSetgid_ = -1;
  }
  return cachedFd_.get();
}

// An entry replaced at `rel` may have been the cached parent or one of its ancestors.
void Extractor::forget(const std::string& rel) {
  if (cachedRel_ == rel || cachedRel_.rfind(rel + "/", 0) == 0) {
    cachedRel_ = "\x01";
    cachedFd_.reset();
    cachedSetgid_ = -1;
  }
}

void Extractor::run(TarReader& tar) {
  // Whatever the writer has not been handed yet goes before the parser waits for data.
  tar.input().setWaitHook([this] {
    for (auto& w : writers_) w->publish();
  });
  // The hook points into this Extractor, which the caller drops before it drains the rest of
  // the blob (and on errors): take it out whichever way run ends.
  struct HookReset {
    decltype(tar.input())& input;
    ~HookReset() { input.setWaitHook(nullptr); }
  } hookReset{tar.input()};
  while (std::optional<TarEntry> e = tar.next()) apply(tar, *e);
  for (auto& w : writers_) w->finish();
  for (auto it = dirTimes_.rbegin(); it != dirTimes_.rend(); ++it) {
    UniqueFd parent = resolver_.openDir(it->first, it->first.size() - 1, false);
    struct timespec ts[2] = {{it->second, 0}, {it->second, 0}};
    if (utimensat(parent.get(), it->first.back().c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
      throwSys("utimensat", o_.destDir);
  }
}

void Extractor::apply(TarReader& tar, TarEntry& e) {
  Target t;
  t.comps = splitEntryName(entryName(e.name));
  if (t.comps.empty()) return;  // "./": the root itself keeps the caller's ownership and mode
  for (size_t i = 0; i < t.comps.size(); i++) t.rel += (i ? "/" : "") + t.comps[i];
  t.base = t.comps.back();
  t.parent = parentOf(t.comps);
  if (!o_.addArchive && isWhiteout(t.base)) return whiteout(t);
  forget(t.rel);
  created_.insert(t.rel);
  switch (e.type) {
    case EntryType::Dir: return makeDir(e, t);
    case EntryType::File: return writeFile(tar, e, t);
    case EntryType::HardLink: return hardLink(e, t);
    case EntryType::Symlink:
      if (createReplacing(t, [&] { return symlinkat(e.linkname.c_str(), t.parent, t.base.c_str()); }) != 0)
        throwSys("symlinkat", full(t.rel));
      return setMeta(e, t, -1);
    case EntryType::Char: case EntryType::Block: case EntryType::Fifo: {
      mode_t kind = e.type == EntryType::Char ? S_IFCHR : e.type == EntryType::Block ? S_IFBLK : S_IFIFO;
      if (createReplacing(t, [&] { return mknodat(t.parent, t.base.c_str(), kind | 0600, makedev(e.devMajor, e.devMinor)); }) != 0)
        throwSys("mknodat", full(t.rel));
      return setMeta(e, t, -1);
    }
  }
}

void Extractor::whiteout(const Target& t) {
  std::string parentRel = t.rel.substr(0, t.rel.size() - t.base.size());
  if (isOpaque(t.base)) {
    if (o_.overlayWhiteouts) {
      UniqueFd dir(openat(t.parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!dir.valid() || markOpaque(dir.get()) != 0)
        throwSys("fsetxattr", full(parentRel));
      return;
    }
    // Everything in the folder that this layer did not put there is hidden.
    UniqueFd dir(openat(t.parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) throwSys("openat", full(parentRel));
    std::unique_ptr<DIR, int (*)(DIR*)> d(fdopendir(dir.release()), closedir);
    std::vector<std::string> names;
    while (dirent* de = readdir(d.get()))
      if (std::strcmp(de->d_name, ".") && std::strcmp(de->d_name, "..")) names.emplace_back(de->d_name);
    for (const auto& n : names)
      if (!created_.count(parentRel + n)) removeAllAt(dirfd(d.get()), n, full(parentRel + n));
    return;
  }
  std::string name = whiteoutTarget(t.base);
  if (name.empty() || name == "." || name == "..") throwBad("BAD_LAYER", "malformed whiteout", t.rel);
  forget(parentRel + name);
  removeAllAt(t.parent, name, full(parentRel + name));
  if (!o_.overlayWhiteouts) return;
  if (!o_.whiteoutsOver.empty() && !MergedView{o_.whiteoutsOver}.has(parentRel + name)) return;
  if (makeWhiteoutDeviceAt(t.parent, name) != 0)
    throwSys("mknodat", full(parentRel + name));
}

// Anything already at the name goes, whatever it is (a folder with all it holds, too).
void Extractor::clearForNonDir(const Target& t) { removeAllAt(t.parent, t.base, full(t.rel)); }

// Creation is tried first and the old entry cleared only on EEXIST: in the common case (a
// fresh tree) that saves a stat per entry.
template <typename Op>
int Extractor::createReplacing(const Target& t, Op op) {
  int rc = op();
  if (rc < 0 && errno == EEXIST) {
    clearForNonDir(t);
    rc = op();
  }
  return rc;
}

void Extractor::makeDir(const TarEntry& e, const Target& t) {
  if (mkdirat(t.parent, t.base.c_str(), 0700) != 0) {
    if (errno != EEXIST) throwSys("mkdirat", full(t.rel));
    struct stat st;  // an existing folder is kept (and updated); anything else is replaced
    if (fstatat(t.parent, t.base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
      clearForNonDir(t);
      if (mkdirat(t.parent, t.base.c_str(), 0700) != 0) throwSys("mkdirat", full(t.rel));
    } else if (o_.addArchive) {
      return;
    }
  }
  UniqueFd fd(openat(t.parent, t.base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) throwSys("openat", full(t.rel));
  setMeta(e, t, fd.get());
  dirTimes_.emplace_back(t.comps, e.mtime);
}

// The parser creates the file (in tar order) and hands its data and metadata to the writer.
void Extractor::writeFile(TarReader& tar, const TarEntry& e, const Target& t) {
  FileWriter& writer = *writers_[nextWriter_++ % writers_.size()];
  FileOp last;
  last.end = true;
  last.rel = t.rel;
  last.size = e.size;
  last.mode = e.mode;
  last.mtime = e.mtime;
  last.xattrs = e.xattrs;
  last.chown = hostIds(e, t.rel, &last.uid, &last.gid) && !ownedAlready(last.uid, last.gid);
  last.file.reset(createReplacing(t, [&] { return openat(t.parent, t.base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600); }));
  if (!last.file.valid()) throwSys("openat", full(t.rel));
  int fd = last.file.get();
  uint64_t left = e.size;
  off_t off = 0;
  // Runs handed over are page-aligned in the file (so all-zero pages can become holes): a
  // page split between two chunks is put together in its own buffer first.
  std::unique_ptr<uint8_t[]> page;
  size_t carry = 0;
  auto data = [&](const uint8_t* p, size_t n, ChunkRef ref, std::unique_ptr<uint8_t[]> own) {
    if (!n) return;
    FileOp op;
    op.fd = fd;
    op.off = off;
    op.p = p;
    op.n = n;
    op.ref = std::move(ref);
    op.own = std::move(own);
    op.rel = t.rel;
    writer.add(std::move(op));
    off += off_t(n);
  };
  while (left) {
    const uint8_t* p;
    size_t n = tar.viewData(&p, size_t(std::min<uint64_t>(left, kChunk)));
    left -= n;
    if (carry) {
      size_t k = std::min(kHole - carry, n);
      std::memcpy(page.get() + carry, p, k);
      carry += k;
      p += k;
      n -= k;
      if (carry < kHole && left) continue;
      size_t c = carry;
      carry = 0;
      data(nullptr, c, ChunkRef(), std::move(page));
    }
    size_t whole = left ? n - n % kHole : n;
    data(p, whole, whole ? tar.dataChunk() : ChunkRef(), nullptr);
    carry = n - whole;
    if (carry) {
      page.reset(new uint8_t[kHole]);
      std::memcpy(page.get(), p + whole, carry);
    }
  }
  writer.add(std::move(last));
}

void Extractor::hardLink(const TarEntry& e, const Target& t) {
  std::vector<std::string> src = splitEntryName(entryName(e.linkname));
  if (src.empty()) throwBad("BAD_LAYER", "hard link to the root", t.rel);
  UniqueFd srcParent = resolver_.openDir(src, src.size() - 1, false);
  // Flags 0: a link to a symlink links the symlink itself, never what it points to.
  if (createReplacing(t, [&] { return linkat(srcParent.get(), src.back().c_str(), t.parent, t.base.c_str(), 0); }) != 0)
    throwSys("linkat", full(t.rel));
}

// The host ids for an entry; false (no chown) when they are unmapped and that is allowed.
bool Extractor::hostIds(const TarEntry& e, const std::string& rel, uid_t* uid, gid_t* gid) {
  auto u = containerToHost(o_.idMap.uids, e.uid);
  auto g = containerToHost(o_.idMap.gids, e.gid);
  if (!u || !g) {
    if (o_.ignoreChownErrors) return false;
    throwBad("ID_UNMAPPED", "owner " + std::to_string(e.uid) + ":" + std::to_string(e.gid) + " is outside the id mapping", full(rel));
  }
  *uid = uid_t(*u);
  *gid = gid_t(*g);
  return true;
}

// A new entry in the cached parent is owned by our euid and egid, unless the parent is
// setgid (then by its group): the chown can be left out when that is already the owner.
bool Extractor::ownedAlready(uid_t uid, gid_t gid) {
  if (uid != euid_ || gid != egid_) return false;
  if (cachedSetgid_ < 0) {
    struct stat st;
    cachedSetgid_ = !cachedFd_.valid() || fstat(cachedFd_.get(), &st) != 0 || (st.st_mode & S_ISGID) ? 1 : 0;
  }
  return cachedSetgid_ == 0;
}

void Extractor::chownChecked(int dirFd, const char* name, const TarEntry& e, int flags, const std::string& rel) {
  uid_t uid;
  gid_t gid;
  if (!hostIds(e, rel, &uid, &gid)) return;
  if (dirFd == cachedFd_.get() && (flags & AT_SYMLINK_NOFOLLOW) && ownedAlready(uid, gid)) return;  // just made by us
  if (fchownat(dirFd, name, uid, gid, flags) != 0) {
    // EINVAL: the id is not mapped in this user namespace (single-id rootless).
    if (o_.ignoreChownErrors && (errno == EINVAL || errno == EPERM)) return;
    throwSys("fchownat", full(rel));
  }
}

void Extractor::setXattrs(int fd, const TarEntry& e, const std::string& rel) {
  for (const auto& [k, v] : e.xattrs) {
    // A layer must not smuggle in overlayfs' own metadata (redirects, opaque, origin).
    if (k.find(".overlay.") != std::string::npos) continue;
    if (fsetxattr(fd, k.c_str(), v.data(), v.size(), 0) != 0) {
      if (errno == ENOTSUP || ((o_.ignoreChownErrors || o_.addArchive) && (errno == EPERM || errno == EINVAL))) continue;
      throwSys("fsetxattr", full(rel));
    }
  }
}

// Owner first: chown clears setuid/setgid bits, so the mode goes on after it.
void Extractor::setMeta(const TarEntry& e, const Target& t, int fd) {
  if (fd >= 0) {
    chownChecked(fd, "", e, AT_EMPTY_PATH, t.rel);
    if (fchmod(fd, e.mode) != 0) throwSys("fchmod", full(t.rel));
    setXattrs(fd, e, t.rel);
    return;
  }
  chownChecked(t.parent, t.base.c_str(), e, AT_SYMLINK_NOFOLLOW, t.rel);
  struct timespec ts[2] = {{e.mtime, 0}, {e.mtime, 0}};
  if (e.type == EntryType::Symlink) {
    if (utimensat(t.parent, t.base.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) throwSys("utimensat", full(t.rel));
    return;
  }
  // Devices and fifos: opening one could block or touch hardware, so work through the name.
  if (fchmodat(t.parent, t.base.c_str(), e.mode, 0) != 0) throwSys("fchmodat", full(t.rel));
  if (utimensat(t.parent, t.base.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) throwSys("utimensat", full(t.rel));
  // Through the parent's fd (its /proc link), not the path: a path would follow symlinks in
  // the parents again, and could lead out of the root.
  std::string at = "/proc/self/fd/" + std::to_string(t.parent) + "/" + t.base;
  for (const auto& [k, v] : e.xattrs)
    if (k.find(".overlay.") == std::string::npos && lsetxattr(at.c_str(), k.c_str(), v.data(), v.size(), 0) != 0 && errno != ENOTSUP && errno != EPERM)
      throwSys("lsetxattr", full(t.rel));
}

}  // namespace

LayerResult extractLayer(const ExtractOptions& o) {
  bool created = mkdir(o.destDir.c_str(), 0755) == 0;
  if (!created && errno != EEXIST) throwSys("mkdir", o.destDir);
  try {
    UniqueFd root(open(o.destDir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) throwSys("open", o.destDir);
    // The diff_id check covers every decoded byte: zstd's own checksum is then redundant.
    LayerReader in(o.inputPath, !o.expectedDiffId);
    TarReader tar(in);
    Extractor(o, root.get()).run(tar);
    tar.skipData();
    in.drain();
    LayerResult r;
    r.diffId = in.diffId();
    r.uncompressedSize = in.tarSize();
    r.digest = in.blobDigest();
    r.size = in.blobSize();
    if (o.expectedDiffId && *o.expectedDiffId != r.diffId)
      throwBad("DIGEST_MISMATCH", "layer diff_id is " + r.diffId + ", expected " + *o.expectedDiffId, o.inputPath);
    return r;
  } catch (...) {
    if (created) {
      try {
        removeAllAt(AT_FDCWD, o.destDir, o.destDir);
      } catch (...) {
      }
    }
    throw;
  }
}

}  // namespace nb
