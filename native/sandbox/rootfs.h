// Builds the RUN root file system inside a fresh mount namespace: overlay (or a plain dir),
// /proc, /dev, /sys, /etc/{hosts,resolv.conf,hostname}, RUN --mount points, then pivot_root.
#pragma once
#include <set>
#include <string>

#include "sandbox/spec.h"

namespace nbs {

// Remembers what the sandbox itself added to the layer (mount points, copied-up parents) and
// streams it to the parent helper, which removes it again after the run.
class Tracker {
 public:
  explicit Tracker(int fd, std::string hostChangesDir) : fd_(fd), changesDir_(std::move(hostChangesDir)) {}
  // Records the parents of `rel` that are not yet in the layer (they are about to be copied up).
  void beforeCreate(const std::string& parentRel);
  void created(const std::string& rel);

 private:
  void send(char tag, const std::string& rel);
  int fd_;
  std::string changesDir_;
  std::set<std::string> sent_;
};

// Sends a tagged, NUL-terminated record on the helper's internal pipe.
void sendRecord(int fd, char tag, const std::string& payload);

// Everything up to and including pivot_root; the process is then inside the new root.
void setupRootfs(const Spec& spec, Tracker& tracker, bool userxattr);

// Probe used by `nbuild info`: mounts an overlay with the given dirs at `merged`.
void mountOverlayAt(const std::vector<std::string>& lowers, const std::string& upper, const std::string& work,
                    const std::string& target, bool userxattr);

}  // namespace nbs
