// Extended attributes nbuild carries into images, in one place: the layer writer reads them,
// COPY copies them (BuildKit's copier copies a file's xattrs with it).
#pragma once
#include <map>
#include <string>

namespace nb {

// user.* (not overlay's own bookkeeping) and file capabilities.
bool keepXattr(const std::string& key);

// The kept attributes of `path`, not following a last symlink; none where the fs has none.
std::map<std::string, std::string> readKeptXattrs(const std::string& path);

// Sets `src`'s kept attributes on `dst` (not following a last symlink). One the destination's
// filesystem or namespace refuses (ENOTSUP, EPERM) is left out, as BuildKit logs and goes on.
void copyKeptXattrs(const std::string& src, const std::string& dst);

}  // namespace nb
