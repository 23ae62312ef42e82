// Applies a layer blob to a directory. Whiteouts either stay overlay whiteouts (the result is
// an overlay lower dir) or are applied (the result is a flattened tree). Nothing is written
// outside destDir; the diff_id is computed while extracting and checked at the end.
#pragma once
#include <optional>
#include <string>

#include "core/idmap.h"
#include "core/layer_writer.h"

namespace nb {

struct ExtractOptions {
  std::string inputPath, destDir;
  bool overlayWhiteouts = false;
  IdMap idMap;  // image ids → host ids
  bool ignoreChownErrors = false;
  std::optional<std::string> expectedDiffId;
};

LayerResult extractLayer(const ExtractOptions& o);

}  // namespace nb
