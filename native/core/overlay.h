// The overlay vocabulary, one home for it: how a layer says "deleted" and "opaque folder".
// Two forms exist. In a layer tar (OCI image-spec layer.md, from AUFS) they are names:
// ".wh.NAME" deletes NAME, ".wh..wh..opq" hides the lower layers' content of its folder.
// In an overlayfs upper or lower dir (the store's unpacked layers, a RUN's changes) they are a
// 0/0 character device at NAME and an `overlay.opaque=y` xattr on the folder. The layer writer
// turns the second form into the first, the extractor the first into the second (or applies
// them), and the sandbox reads and writes the second. Nothing else spells these out.
#pragma once
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <string>

namespace nb {

// --- tar form ---------------------------------------------------------------------------
// Any name with this prefix is read as a whiteout by every image tool, so no layer may carry a
// real file named like that.
inline const std::string kWhiteoutPrefix = ".wh.";
inline const std::string kOpaqueWhiteout = ".wh..wh..opq";

inline bool isWhiteout(const std::string& base) { return base.compare(0, kWhiteoutPrefix.size(), kWhiteoutPrefix) == 0; }
// The opaque marker (itself a whiteout name: test it first).
inline bool isOpaque(const std::string& base) { return base == kOpaqueWhiteout; }
// ".wh.NAME" → "NAME" (the name deleted); only for isWhiteout names.
inline std::string whiteoutTarget(const std::string& base) { return base.substr(kWhiteoutPrefix.size()); }
// "NAME" → ".wh.NAME".
inline std::string whiteoutName(const std::string& base) { return kWhiteoutPrefix + base; }


// --- overlayfs form ---------------------------------------------------------------------
inline bool isWhiteoutDevice(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }
inline int makeWhiteoutDeviceAt(int dirFd, const std::string& name) {
  return mknodat(dirFd, name.c_str(), S_IFCHR | 0000, makedev(0, 0));
}
inline int makeWhiteoutDevice(const std::string& path) { return mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)); }

// Written by us: overlay reads it with `userxattr` (always used, also as real root, Linux >= 5.11).
inline const char* const kUserOpaqueXattr = "user.overlay.opaque";
// Read too: kernel overlayfs as real root writes the trusted one.
inline const char* const kTrustedOpaqueXattr = "trusted.overlay.opaque";
inline bool isOpaqueXattr(const std::string& name) { return name == kUserOpaqueXattr || name == kTrustedOpaqueXattr; }
// overlayfs' own metadata (opaque, redirect, origin, …), never copied as a file's xattr.
inline bool isOverlayXattr(const std::string& name) {
  return name.compare(0, 16, "trusted.overlay.") == 0 || name.compare(0, 13, "user.overlay.") == 0;
}
// True when the folder at `path` (not followed) is marked opaque.
inline bool isOpaqueDir(const std::string& path) {
  char v[2];
  for (const char* k : {kUserOpaqueXattr, kTrustedOpaqueXattr})
    if (lgetxattr(path.c_str(), k, v, sizeof v) == 1 && v[0] == 'y') return true;
  return false;
}
inline int markOpaque(int dirFd) { return fsetxattr(dirFd, kUserOpaqueXattr, "y", 1, 0); }
inline int markOpaque(const std::string& path) { return lsetxattr(path.c_str(), kUserOpaqueXattr, "y", 1, 0); }

// --- fuse-overlayfs' own marks (sandbox/fuseupper.cc turns them into the overlayfs form) -----
// An opaque folder gets kOpaqueWhiteout plus this 0/0 device inside it, and this xattr.
inline const std::string kFuseOpaqueMarker = ".wh..opq";
inline const std::string kFuseXattrPrefix = "user.fuseoverlayfs.";
inline const char* const kFuseOpaqueXattr = "user.fuseoverlayfs.opaque";

}  // namespace nb
