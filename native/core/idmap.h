// Id mapping between the image's ids and the host's (a subordinate range, as in /etc/subuid).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace nb {

struct IdMapEntry {
  uint32_t containerId, hostId, size;
};

struct IdMap {
  std::vector<IdMapEntry> uids, gids;
  bool identity() const { return uids.empty() && gids.empty(); }
};

// An empty range list means identity.
inline std::optional<uint64_t> hostToContainer(const std::vector<IdMapEntry>& m, uint64_t id) {
  if (m.empty()) return id;
  for (const auto& e : m)
    if (id >= e.hostId && id - e.hostId < e.size) return e.containerId + (id - e.hostId);
  return std::nullopt;
}

inline std::optional<uint64_t> containerToHost(const std::vector<IdMapEntry>& m, uint64_t id) {
  if (m.empty()) return id;
  for (const auto& e : m)
    if (id >= e.containerId && id - e.containerId < e.size) return e.hostId + (id - e.containerId);
  return std::nullopt;
}

}  // namespace nb
