// File-tree operations for the copy-based snapshot: materialize an overlay lower stack into a
// plain directory, and diff such a directory against the stack into an overlay-format upper dir
// (0/0 character-device whiteouts), which the layer writer already understands.
#pragma once
#include <string>
#include <vector>

namespace nbs {

struct TreeStats {
  unsigned long long files = 0, dirs = 0, whiteouts = 0, bytes = 0;
};

// rm -rf; read-only dirs are made writable first.
void removeAll(const std::string& path);

// Applies the layers bottom-up onto `dest` (created), honouring whiteouts and opaque dirs.
TreeStats materialize(const std::vector<std::string>& lowersTopFirst, const std::string& dest);

// Writes into `upper` (created) what differs in `snapshot` from the merged view of the layers.
TreeStats diffTree(const std::vector<std::string>& lowersTopFirst, const std::string& snapshot, const std::string& upper);

// The protocol of the tree sub-commands: reads the JSON request on stdin, runs `op`, prints one
// JSON line ({"ok":true, counts} or {"ok":false, errno, message}); returns the exit status.
struct Json;
int runTreeCommand(TreeStats (*op)(const Json& request));

}  // namespace nbs
