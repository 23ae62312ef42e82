// Read-only overlay views of a layer stack (src/snapshot/rootfs-view.ts), mounted and unmounted
// with the system calls themselves: the CLI runs in its own user and mount namespaces (the
// launcher's), where it may mount, and starting mount(8) and umount(8) for each view cost
// ~20 ms of process start-up each, per COPY step (profiled).
#pragma once
#include <string>

namespace nb {

// Mounts overlay `ro,userxattr,lowerdir=<lower>` at `target`. `lower` names the layers relative
// to `parent` (short names keep the option within the kernel's one page), so the mount runs on a
// thread of its own that unshares its working folder (CLONE_FS) and enters `parent`: the
// process's working folder, which other threads resolve relative paths against, never changes.
void mountOverlayView(const std::string& parent, const std::string& lower, const std::string& target);

// Detaches the view (umount2 MNT_DETACH, as `umount -l`): files still open in it stay readable.
void unmountView(const std::string& target);

}  // namespace nb
