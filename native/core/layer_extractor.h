// Applies a layer blob to a directory. Whiteouts either stay overlay whiteouts (the result is
// an overlay lower dir) or are applied (the result is a flattened tree). Nothing is written
// outside destDir; the diff_id is computed while extracting and checked at the end.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/idmap.h"
#include "core/layer_writer.h"

namespace nb {

struct ExtractOptions {
  std::string inputPath, destDir;
  bool overlayWhiteouts = false;
  // With overlayWhiteouts: the unpacked layers (top first) the result goes on top of. A whiteout
  // is made only where they have the path; elsewhere it hides nothing (a file made and deleted
  // within a --squash range). Empty: every whiteout is made.
  std::vector<std::string> whiteoutsOver;
  IdMap idMap;  // image ids → host ids
  bool ignoreChownErrors = false;
  std::optional<std::string> expectedDiffId;
  // An ADD archive rather than a layer, unpacked the way docker's chrootarchive does it (a
  // chroot at destDir): ".wh." names are plain files, a leading "/" is dropped, a symlink that
  // climbs above destDir stays at it, and a folder that already exists keeps its metadata
  // (what GNU tar's --no-overwrite-dir gave before); an xattr the kernel refuses (trusted.*) is
  // left out, as docker does.
  bool addArchive = false;
};

LayerResult extractLayer(const ExtractOptions& o);

}  // namespace nb
