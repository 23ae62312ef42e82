// `nbuild build --load` into podman: podman run inside nbuild's user namespace takes itself for root
// (/run/libpod) and fails, so Node, inside, hands the archive back to the launcher, which stays
// outside as the user and runs `podman load -i FILE` after Node exits, then removes FILE.
// The channel: a pipe whose write end Node inherits, its number in NBUILD_HANDBACK_FD; Node writes
// one line, "podman-load PATH\n" (src/cli/load-into.ts).
#pragma once
#include <sys/types.h>

namespace nbs {

struct HandBack {
  int readFd = -1, writeFd = -1;
};

// Before fork: the pipe (both ends close-on-exec); false when it cannot be made (no hand-back then).
bool openHandBack(HandBack& h);
// In the child, before it execs Node: the write end survives exec, its number in the environment.
void announceHandBack(HandBack& h);
// In the launcher after fork: keeps only the read end.
void keepReadEnd(HandBack& h);
// After Node exited with `status` (its exit code): does what Node asked, if anything; returns the
// exit code to use (status, or 1 when podman load fails).
int runHandBack(HandBack& h, int status);

}  // namespace nbs
