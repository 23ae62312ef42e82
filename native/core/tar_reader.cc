#include "core/tar_reader.h"

#include "core/error.h"

namespace nb {

namespace {
constexpr uint64_t kMaxMeta = 16 << 20;  // a PAX or long-name record larger than this is hostile

EntryType typeOf(char t, const std::string& name) {
  switch (t) {
    case '0': case '\0': case '7': return EntryType::File;
    case '1': return EntryType::HardLink;
    case '2': return EntryType::Symlink;
    case '3': return EntryType::Char;
    case '4': return EntryType::Block;
    case '5': return EntryType::Dir;
    case '6': return EntryType::Fifo;
    default: throwBad("BAD_LAYER", std::string("tar: unsupported entry type '") + t + "'", name);
  }
}
// PAX numbers are decimal text; anything else is a malformed layer, not an internal error.
uint64_t paxNumber(const std::string& v, const std::string& name) {
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
    throwBad("BAD_LAYER", "tar: bad PAX number '" + v + "'", name);
  return std::stoull(v);
}

int64_t paxTime(const std::string& v, const std::string& name) {
  std::string whole = v.substr(0, v.find('.'));  // sub-second part dropped, as we write none
  bool neg = !whole.empty() && whole[0] == '-';
  int64_t n = int64_t(paxNumber(neg ? whole.substr(1) : whole, name));
  return neg ? -n : n;
}

}  // namespace

std::string TarReader::readBody(uint64_t size) {
  if (size > kMaxMeta) throwBad("BAD_LAYER", "tar: oversized metadata record", "");
  std::string s(size_t(size), '\0');
  if (size && !in_.read(reinterpret_cast<uint8_t*>(s.data()), s.size())) throwBad("BAD_LAYER", "tar: truncated", "");
  in_.skip((512 - size % 512) % 512);
  return s;
}

std::optional<TarEntry> TarReader::next() {
  skipData();
  std::map<std::string, std::string> pax;
  std::optional<std::string> longName, longLink;
  uint8_t block[512];
  for (;;) {
    if (!in_.read(block, 512) || isZeroBlock(block)) return std::nullopt;
    RawHeader h = decodeHeader(block);
    if (h.typeflag == 'x') {
      for (auto& [k, v] : parsePax(readBody(h.size))) pax[k] = v;
      continue;
    }
    if (h.typeflag == 'g') { readBody(h.size); continue; }  // global records: nothing we use
    if (h.typeflag == 'L') { longName = readBody(h.size); longName->resize(longName->find('\0') == std::string::npos ? longName->size() : longName->find('\0')); continue; }
    if (h.typeflag == 'K') { longLink = readBody(h.size); longLink->resize(longLink->find('\0') == std::string::npos ? longLink->size() : longLink->find('\0')); continue; }
    TarEntry e;
    e.name = longName ? *longName : h.name;
    e.linkname = longLink ? *longLink : h.linkname;
    e.type = typeOf(h.typeflag, e.name);
    e.mode = h.mode & 07777;
    e.uid = h.uid;
    e.gid = h.gid;
    e.size = h.size;
    e.mtime = h.mtime;
    e.devMajor = h.devMajor;
    e.devMinor = h.devMinor;
    for (const auto& [k, v] : pax) {
      if (k == "path") e.name = v;
      else if (k == "linkpath") e.linkname = v;
      else if (k == "size") e.size = paxNumber(v, e.name);
      else if (k == "uid") e.uid = paxNumber(v, e.name);
      else if (k == "gid") e.gid = paxNumber(v, e.name);
      else if (k == "mtime") e.mtime = paxTime(v, e.name);
      else if (k.rfind("SCHILY.xattr.", 0) == 0) e.xattrs[k.substr(13)] = v;
      else if (k.rfind("GNU.sparse.", 0) == 0) throwBad("BAD_LAYER", "tar: GNU sparse entries are not supported", e.name);
    }
    // Only regular files carry data; other types are header-only whatever their size says
    // (as in Go's archive/tar, which wrote most layers in the wild).
    if (e.type != EntryType::File) e.size = 0;
    left_ = e.size;
    pad_ = (512 - e.size % 512) % 512;
    return e;
  }
}

size_t TarReader::readData(uint8_t* dst, size_t n) {
  size_t k = size_t(std::min<uint64_t>(n, left_));
  if (k && !in_.read(dst, k)) throwBad("BAD_LAYER", "tar: truncated data", "");
  left_ -= k;
  return k;
}

size_t TarReader::viewData(const uint8_t** p, size_t n) {
  size_t k = size_t(std::min<uint64_t>(n, left_));
  if (k == 0) return 0;
  k = in_.view(p, k);
  if (k == 0) throwBad("BAD_LAYER", "tar: truncated data", "");
  left_ -= k;
  return k;
}

void TarReader::skipData() {
  in_.skip(left_ + pad_);
  left_ = pad_ = 0;
}

}  // namespace nb
