#include "core/merged_view.h"

#include <dirent.h>

#include <cstring>

#include "core/error.h"
#include "core/overlay.h"

namespace nb {
namespace {

std::string join(const std::string& a, const std::string& b) { return b.empty() ? a : a + "/" + b; }

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    std::string c = path.substr(pos, slash - pos);
    if (!c.empty() && c != ".") parts.push_back(c);
    pos = slash + 1;
  }
  return parts;
}

std::vector<std::string> listDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (!d) throwErrno("opendir " + path);
  while (struct dirent* e = readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  closedir(d);
  return names;
}

}  // namespace

// Component by component in each layer, top first, never through a symlink (lstat of a deeper
// path would follow one, perhaps out of the layer).
bool MergedView::lookup(const std::string& rel, struct stat& out, std::string& where) const {
  auto parts = splitPath(rel);
  for (const auto& layer : layers) {
    std::string cur = layer;
    bool opaqueAbove = false;
    for (size_t i = 0; i < parts.size(); i++) {
      cur += "/" + parts[i];
      struct stat st;
      if (lstat(cur.c_str(), &st) < 0) break;  // absent here: look lower
      bool last = i + 1 == parts.size();
      if (isWhiteoutDevice(st) || (!last && !S_ISDIR(st.st_mode))) return false;  // hides the lower layers
      if (last) {
        out = st;
        where = cur;
        return true;
      }
      if (isOpaqueDir(cur)) opaqueAbove = true;  // below it only this layer counts
    }
    if (opaqueAbove) return false;
  }
  return false;
}

std::set<std::string> MergedView::list(const std::string& rel) const {
  std::set<std::string> names, hidden;
  for (const auto& layer : layers) {
    const std::string dir = join(layer, rel);
    struct stat st;
    if (lstat(dir.c_str(), &st) < 0) continue;
    if (!S_ISDIR(st.st_mode)) break;  // a whiteout or a file here hides the lower dirs
    for (const auto& n : listDir(dir)) {
      if (names.count(n) || hidden.count(n)) continue;
      struct stat cst;
      if (lstat((dir + "/" + n).c_str(), &cst) == 0 && isWhiteoutDevice(cst)) hidden.insert(n);
      else names.insert(n);
    }
    if (isOpaqueDir(dir)) break;
  }
  // Entries whose parent path is hidden higher up do not exist at all.
  struct stat st;
  std::string where;
  if (!rel.empty() && (!lookup(rel, st, where) || !S_ISDIR(st.st_mode))) return {};
  return names;
}

}  // namespace nb
