#include "core/view_mount.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <thread>

#include "core/error.h"

namespace nb {

void mountOverlayView(const std::string& parent, const std::string& lower, const std::string& target) {
  const std::string options = "userxattr,lowerdir=" + lower;
  int err = 0;
  const char* failed = nullptr;
  try {
    std::thread worker([&] {
      if (unshare(CLONE_FS) != 0) {
        err = errno, failed = "unshare";
      } else if (chdir(parent.c_str()) != 0) {
        err = errno, failed = "chdir";
      } else if (mount("overlay", target.c_str(), "overlay", MS_RDONLY, options.c_str()) != 0) {
        err = errno, failed = "mount";
      }
    });
    worker.join();
  } catch (const std::system_error& e) {
    // No thread (a process at its limit): an EngineError, which the addon turns into a JS error.
    throwSysErr(e.code().value() ? e.code().value() : EAGAIN, "thread", target);
  }
  if (failed) throwSysErr(err, failed, failed[0] == 'c' ? parent : target);
}

void unmountView(const std::string& target) {
  if (umount2(target.c_str(), MNT_DETACH) != 0) throwSys("umount2", target);
}

}  // namespace nb
