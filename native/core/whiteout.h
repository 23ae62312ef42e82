// The whiteout names of OCI image layers (image-spec layer.md, from AUFS): one home for them, used
// by the layer writer, the extractor and the sandbox's fuse-overlayfs upper conversion.
#pragma once
#include <string>

namespace nb {

// ".wh.NAME" deletes NAME from the layers below; any name with this prefix is read as a whiteout
// by every image tool, so no layer may carry a real file named like that.
inline const std::string kWhiteoutPrefix = ".wh.";
// Hides everything the layers below have in its folder (an "opaque" folder).
inline const std::string kOpaqueWhiteout = ".wh..wh..opq";

inline bool isWhiteoutName(const std::string& base) { return base.compare(0, kWhiteoutPrefix.size(), kWhiteoutPrefix) == 0; }

}  // namespace nb
