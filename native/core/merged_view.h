// Read-only queries on the merged view of an overlay lower stack (unpacked layers, top-most
// first), as the kernel overlay would show it: whiteout devices hide, a non-folder hides the lower
// folders' content, an opaque folder hides the lower layers below it. Nothing is followed: a
// symlink is an entry like any other. Used by the helper's copy-based snapshots (diff against
// the image) and by the extractor (a whiteout only where the layers below have the path).
#pragma once
#include <sys/stat.h>

#include <set>
#include <string>
#include <vector>

namespace nb {

struct MergedView {
  const std::vector<std::string>& layers;  // top first

  // The top-most visible entry at rel ("a/b"), with the path of the layer's file it comes from.
  bool lookup(const std::string& rel, struct stat& out, std::string& where) const;
  bool has(const std::string& rel) const {
    struct stat st;
    std::string where;
    return lookup(rel, st, where);
  }
  // The visible names in folder rel ("" the root); empty when rel is not a visible folder.
  std::set<std::string> list(const std::string& rel) const;
};

}  // namespace nb
