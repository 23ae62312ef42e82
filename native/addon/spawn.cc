// Starts a program with posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc) instead of Node's
// child_process, whose fork copies the page tables of the whole Node process on the JS thread:
// ~8–12 ms per RUN step at a build's ~75–150 MB, against ~0.3 ms here (docs/decisions.md,
// "RUN steps start the sandbox helper with posix_spawn"). The child's stdio slots are pipes (the
// parent's ends are returned), /dev/null, or one of this process's fds, and no other fd is open
// in the child; signal dispositions and the signal mask are reset as libuv resets them. Its exit is awaited by waitpid on a thread of
// its own (not the libuv pool, which a long RUN would hold) and settles a Promise.
#include <fcntl.h>
#include <napi.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "addon/spawn.h"

extern char** environ;

namespace nbaddon {

namespace {

constexpr int kPipe = -1;
constexpr int kNull = -2;

struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
};

[[noreturn]] void throwErrno(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : "ESPAWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  throw e;
}

// An fd numbered at least `min`, close-on-exec (so that it never lands on a slot that a later
// dup2 of the child fills, and never leaks into the child except through its dup2).
int above(Napi::Env env, int fd, int min) {
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, min);
  if (moved < 0) throwErrno(env, "spawn: fcntl", errno);
  return moved;
}

struct Waited {
  Napi::Promise::Deferred deferred;
  int status = 0;
  bool ok = false;
};

}  // namespace

// spawnPiped(file, argv (argv[0] included), stdio: number[]) →
//   { pid, fds: number[] (the parent's end of each pipe slot, else -1), exited: Promise<{ code, signal }> }
// stdio[i]: -1 a pipe (slot 0: the child reads; others: the child writes), -2 /dev/null, n ≥ 0 fd n.
Napi::Value SpawnPiped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray()) {
    throw Napi::TypeError::New(env, "expected (file, argv, stdio)");
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array a = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "argv must be strings");
    args.push_back(v.As<Napi::String>().Utf8Value());
  }
  Napi::Array s = info[2].As<Napi::Array>();
  const int slots = int(s.Length());
  Fds child, parent;  // closed on every way out, unless released
  child.fds.assign(size_t(slots), -1);
  parent.fds.assign(size_t(slots), -1);
  for (int i = 0; i < slots; i++) {
    Napi::Value v = s.Get(uint32_t(i));
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "stdio must be numbers");
    int want = v.As<Napi::Number>().Int32Value();
    if (want == kPipe) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) throwErrno(env, "spawn: pipe", errno);
      int mine = i == 0 ? p[1] : p[0];
      int theirs = i == 0 ? p[0] : p[1];
      parent.fds[size_t(i)] = mine;
      child.fds[size_t(i)] = above(env, theirs, slots);
      close(theirs);
    } else if (want == kNull) {
      int fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
      if (fd < 0) throwErrno(env, "spawn: /dev/null", errno);
      child.fds[size_t(i)] = above(env, fd, slots);
      close(fd);
    } else if (want >= 0) {
      child.fds[size_t(i)] = above(env, want, slots);
    } else {
      throw Napi::TypeError::New(env, "stdio entries are -1 (pipe), -2 (/dev/null) or an fd");
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < slots; i++) posix_spawn_file_actions_adddup2(&actions, child.fds[size_t(i)], i);
  // Nothing else of ours, close-on-exec or not (an fd inherited without it would reach the helper).
  posix_spawn_file_actions_addclosefrom_np(&actions, slots);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  // glibc's sigfillset leaves out its internal signals (32 and 33: SIGCANCEL, SIGSETXID), and its
  // posix_spawn then gives them SIG_IGN in the child, which exec keeps and the helper cannot undo
  // (glibc's sigaction refuses them), so every RUN command would start with them ignored. Their
  // bits set by hand, they are reset to SIG_DFL with the rest, as in a ChildProcess.
  constexpr size_t kBits = 8 * sizeof(all.__val[0]);
  for (int sig = 32; sig < SIGRTMIN; sig++) all.__val[size_t(sig - 1) / kBits] |= 1UL << (size_t(sig - 1) % kBits);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  for (std::string& x : args) argv.push_back(x.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawn(&pid, file.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throwErrno(env, "spawn " + file, err);

  auto* waited = new Waited{Napi::Promise::Deferred::New(env)};
  Napi::Promise exited = waited->deferred.Promise();
  auto tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "nbuild:spawn-wait", 0, 1);
  std::thread([pid, waited, tsfn]() mutable {
    int status = 0;
    pid_t r;
    do r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    waited->status = status;
    waited->ok = r == pid;
    tsfn.BlockingCall(waited, [](Napi::Env env, Napi::Function, Waited* w) {
      Napi::Object o = Napi::Object::New(env);
      if (w->ok && WIFEXITED(w->status)) o.Set("code", WEXITSTATUS(w->status));
      else o.Set("code", env.Null());
      if (w->ok && WIFSIGNALED(w->status)) o.Set("signal", WTERMSIG(w->status));
      else o.Set("signal", env.Null());
      w->deferred.Resolve(o);
      delete w;
    });
    tsfn.Release();
  }).detach();

  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", double(pid));
  Napi::Array fds = Napi::Array::New(env, size_t(slots));
  for (int i = 0; i < slots; i++) fds.Set(uint32_t(i), parent.fds[size_t(i)]);
  parent.fds.assign(size_t(slots), -1);  // the caller owns them now
  out.Set("fds", fds);
  out.Set("exited", exited);
  return out;
}

}  // namespace nbaddon
