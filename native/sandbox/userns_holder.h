// A user namespace kept for the next commands (docs/decisions.md, "Start-up: a held user
// namespace"). Making one costs two setuid helpers, newuidmap and newgidmap (~10 ms of every
// command here); a command that made one with the user's full subordinate ranges leaves a small
// process in it, the holder (`nbuild-sandbox userns-hold`), and later commands join its namespace
// with setns(2) instead. The holder ends itself once no command has joined for NBUILD_USERNS_KEEP
// seconds (600 by default; 0: no holder, every command makes its own namespace).
// A command only joins a namespace it could have made itself: one owned by the user, whose id maps
// are the ones newuidmap and newgidmap would write (and those tools are on PATH). The pid file is
// a hint, never trusted: a stale or forged one only costs the join.
#pragma once
#include <sys/types.h>

#include <string>

namespace nbs {

// The maps a command would write: 0 → the user's id (1), 1 → the subordinate range.
struct WantedMaps {
  uid_t uid = 0;
  gid_t gid = 0;
  unsigned long uidStart = 0, uidCount = 0, gidStart = 0, gidCount = 0;
};

// Where the holder's pid file is ("" when there is nowhere to write it): $XDG_RUNTIME_DIR when it
// is the user's, else $TMPDIR, else /tmp (the first writable one).
std::string holderPidFile();
// The longest NBUILD_USERNS_KEEP: a week.
constexpr unsigned long kMaxKeep = 7 * 24 * 3600;
// Seconds a holder waits for the next command: NBUILD_USERNS_KEEP (0: no holder, no join), 600
// when unset; -1 when it is set to anything but that many seconds (the launcher refuses it).
int holderKeepSeconds();
// An open user namespace fd of a live holder whose maps are `want` (the pid file touched, so the
// holder stays), or -1.
int openHeldUserns(const std::string& pidFile, const WantedMaps& want);
// Called in a new user namespace once its full maps are written, before anything else is unshared:
// leaves a detached holder in it (it execs `nbuild-sandbox userns-hold`, with no inherited fds).
void startHolder(const std::string& pidFile, unsigned keepSeconds);
// `nbuild-sandbox userns-hold PIDFILE SECONDS`.
int holdMain(const char* pidFile, const char* seconds);

}  // namespace nbs
