#include "core/tar_format.h"

#include <cstring>

#include "core/error.h"

namespace nb {

namespace {

constexpr size_t kNameLen = 100;

// Octal, NUL terminated, zero padded: the fixed format every field uses, for stable bytes.
bool putOctal(uint8_t* field, size_t width, uint64_t v) {
  if (width - 1 < 22 && v >> (3 * (width - 1))) return false;
  field[width - 1] = 0;
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = uint8_t('0' + (v & 7));
    v >>= 3;
  }
  return true;
}

void putString(uint8_t* field, size_t width, const std::string& s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

void addRecord(std::string& out, const std::string& key, const std::string& value) {
  // "LEN key=value\n" where LEN counts its own digits.
  size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  out += std::to_string(len) + " " + key + "=" + value + "\n";
}

void finishHeader(uint8_t* h) {
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  putOctal(h + 148, 7, sum);
  h[155] = ' ';
}

void fillUstar(uint8_t* h, const std::string& name, char type, uint32_t mode, uint64_t uid, uint64_t gid,
               uint64_t size, int64_t mtime, const std::string& link, uint32_t maj, uint32_t min) {
  std::memset(h, 0, 512);
  putString(h, kNameLen, name);
  putOctal(h + 100, 8, mode);
  putOctal(h + 108, 8, uid);
  putOctal(h + 116, 8, gid);
  putOctal(h + 124, 12, size);
  putOctal(h + 136, 12, uint64_t(mtime));
  h[156] = uint8_t(type);
  putString(h + 157, kNameLen, link);
  std::memcpy(h + 257, "ustar\0" "00", 8);
  putOctal(h + 329, 8, maj);
  putOctal(h + 337, 8, min);
  finishHeader(h);
}

}  // namespace

std::vector<uint8_t> encodeHeader(const TarEntry& e) {
  std::string name = e.name + (e.type == EntryType::Dir ? "/" : "");
  std::string pax;  // records added in sorted key order
  auto fits = [](uint64_t v, int digits) { return (v >> (3 * digits)) == 0; };
  uint64_t size = e.type == EntryType::File ? e.size : 0;
  int64_t mtime = e.mtime < 0 ? 0 : e.mtime;
  bool paxGid = !fits(e.gid, 7), paxUid = !fits(e.uid, 7), paxSize = !fits(size, 11);
  bool paxMtime = !fits(uint64_t(mtime), 11);
  bool paxLink = e.linkname.size() > kNameLen, paxPath = name.size() > kNameLen;
  // Keys in byte order: SCHILY.xattr.* < gid < linkpath < mtime < path < size < uid.
  for (const auto& [k, v] : e.xattrs) addRecord(pax, "SCHILY.xattr." + k, v);
  if (paxGid) addRecord(pax, "gid", std::to_string(e.gid));
  if (paxLink) addRecord(pax, "linkpath", e.linkname);
  if (paxMtime) addRecord(pax, "mtime", std::to_string(mtime));
  if (paxPath) addRecord(pax, "path", name);
  if (paxSize) addRecord(pax, "size", std::to_string(size));
  if (paxUid) addRecord(pax, "uid", std::to_string(e.uid));

  std::vector<uint8_t> out;
  if (!pax.empty()) {
    size_t padded = (pax.size() + 511) / 512 * 512;
    out.resize(512 + padded);
    fillUstar(out.data(), "PaxHeaders/entry", 'x', 0644, 0, 0, pax.size(), 0, "", 0, 0);
    std::memcpy(out.data() + 512, pax.data(), pax.size());
  }
  size_t at = out.size();
  out.resize(at + 512);
  // Fields that went to PAX still get a truncated or zero ustar value, as Go and GNU tar do.
  fillUstar(out.data() + at, paxPath ? name.substr(0, kNameLen) : name, char(e.type), e.mode & 07777,
            paxUid ? 0 : e.uid, paxGid ? 0 : e.gid, paxSize ? 0 : size, paxMtime ? 0 : mtime,
            paxLink ? e.linkname.substr(0, kNameLen) : e.linkname, e.devMajor, e.devMinor);
  return out;
}

bool isZeroBlock(const uint8_t* b) {
  for (int i = 0; i < 512; i++)
    if (b[i]) return false;
  return true;
}

static uint64_t getNumber(const uint8_t* f, size_t width) {
  if (f[0] & 0x80) {  // base-256 (GNU), used by some tools for big sizes and ids
    uint64_t v = f[0] & 0x7f;
    for (size_t i = 1; i < width; i++) v = (v << 8) | f[i];
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < width && (f[i] == ' ' || f[i] == 0)) i++;
  for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) v = (v << 3) | uint64_t(f[i] - '0');
  for (; i < width; i++)
    if (f[i] != ' ' && f[i] != 0) throwBad("BAD_LAYER", "tar header: bad number", "");
  return v;
}

static std::string getString(const uint8_t* f, size_t width) {
  size_t n = 0;
  while (n < width && f[n]) n++;
  return std::string(reinterpret_cast<const char*>(f), n);
}

RawHeader decodeHeader(const uint8_t* b) {
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : b[i];
  if (getNumber(b + 148, 8) != sum) throwBad("BAD_LAYER", "tar header: checksum mismatch", "");
  RawHeader h;
  h.typeflag = char(b[156]);
  h.name = getString(b, 100);
  if (std::memcmp(b + 257, "ustar", 5) == 0) {
    std::string prefix = getString(b + 345, 155);
    if (!prefix.empty()) h.name = prefix + "/" + h.name;
  }
  h.linkname = getString(b + 157, 100);
  h.mode = uint32_t(getNumber(b + 100, 8));
  h.uid = getNumber(b + 108, 8);
  h.gid = getNumber(b + 116, 8);
  h.size = getNumber(b + 124, 12);
  h.mtime = int64_t(getNumber(b + 136, 12));
  h.devMajor = uint32_t(getNumber(b + 329, 8));
  h.devMinor = uint32_t(getNumber(b + 337, 8));
  return h;
}

std::map<std::string, std::string> parsePax(const std::string& d) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < d.size()) {
    size_t sp = d.find(' ', pos);
    if (sp == std::string::npos) break;
    std::string digits = d.substr(pos, sp - pos);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
      throwBad("BAD_LAYER", "tar: malformed PAX record", "");
    size_t len = std::stoull(digits);
    if (len == 0 || pos + len > d.size() || d[pos + len - 1] != '\n')
      throwBad("BAD_LAYER", "tar: malformed PAX record", "");
    size_t eq = d.find('=', sp);
    if (eq == std::string::npos || eq >= pos + len) throwBad("BAD_LAYER", "tar: malformed PAX record", "");
    out[d.substr(sp + 1, eq - sp - 1)] = d.substr(eq + 1, pos + len - 1 - eq - 1);
    pos += len;
  }
  return out;
}

}  // namespace nb
