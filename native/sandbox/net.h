// The network of a RUN step: loopback of a new namespace, and slirp4netns for outbound access.
#pragma once
#include <csignal>
#include <string>
#include <sys/types.h>

namespace nbs {

// Brings up the loopback interface of the current (new) network namespace.
void loopbackUp();

// Starts `binary` (slirp4netns) for the network namespace of process `target` and waits until it
// has configured tap0 there (10.0.2.100/24, default route via 10.0.2.2, DNS forwarder 10.0.2.3;
// the host's loopback is not reachable through 10.0.2.2), itself confined (--enable-sandbox,
// --enable-seccomp). It dies with this process. Returns its
// pid; throws with slirp4netns's own message when it fails, or when `aborted` gets set.
pid_t startSlirp4netns(const std::string& binary, pid_t target, volatile sig_atomic_t& aborted);

// Kills and reaps what startSlirp4netns started (no-op for pid <= 0); returns its wait status.
int stopSlirp4netns(pid_t pid);

}  // namespace nbs
