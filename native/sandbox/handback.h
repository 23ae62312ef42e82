// `nbuild build --load` into podman: podman run inside nbuild's user namespace takes itself for root
// (/run/libpod) and fails, so Node, inside, hands the archive back to the launcher, which stays
// outside as the user and runs `podman load -i FILE` after Node exits, then removes FILE.
// The channel: a pipe whose write end Node inherits, its number in NBUILD_HANDBACK_FD; Node writes
// one line, "podman-load PATH\n" (src/cli/load-into.ts). The same pipe carries Node's last line,
// "exit CODE\n" (src/cli/launcher-channel.ts): written once everything it does is done, so the
// launcher returns without waiting for Node's teardown (docs/decisions.md, "Start-up: the
// launcher returns at Node's exit event").
#pragma once
#include <sys/types.h>

#include <string>

namespace nbs {

struct HandBack {
  int readFd = -1, writeFd = -1;
  std::string said;  // what awaitExit read before the exit line
};

// Before fork: the pipe (both ends close-on-exec); false when it cannot be made (no hand-back then).
bool openHandBack(HandBack& h);
// In the child, before it execs Node: the write end survives exec, its number in the environment.
void announceHandBack(HandBack& h);
// In the launcher after fork: keeps only the read end.
void keepReadEnd(HandBack& h);
// Waits until Node has either written its exit line (its code returned; Node may still be
// freeing its memory) or exited (-1 returned: waitpid has its status). Without the pipe, or
// where the kernel has no pidfd_open, -1 at once.
int awaitExit(HandBack& h, pid_t child);
// After Node exited with `status` (its exit code), or said it: does what Node asked, if
// anything; returns the exit code to use (status, or 1 when podman load fails).
int runHandBack(HandBack& h, int status);

}  // namespace nbs
