// nbuild-sandbox: single-threaded helper that enters namespaces and execs.
//   launch NODE ENTRY ARGS…  bin/nbuild: run the CLI, in a new user namespace when the command needs it
//   launch --userns -- CMD ARGS…  run CMD in a new user namespace (src/sandbox/userns.ts)
//   run                   run a RUN step: spec JSON on stdin, events as JSON lines on fd 3
//   probe DIR             report which isolation features work here, as JSON on stdout
//   materialize | diff    copy-based snapshots: JSON request on stdin, JSON result on stdout
//   fuse-upper            normalise a fuse-overlayfs upper dir to the kernel overlay's format
//   userns-hold FILE SECONDS  keep a user namespace for the next commands (userns_holder.h)
#include <cstdio>
#include <cstring>

namespace nbs {
int launchMain(int argc, char** argv);
int runMain();
int probeMain(const char* dir);
int treeMain(bool diff);
int fuseUpperMain();
int holdMain(const char* pidFile, const char* seconds);
}  // namespace nbs

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "launch") == 0) return nbs::launchMain(argc - 2, argv + 2);
  if (argc == 2 && std::strcmp(argv[1], "run") == 0) return nbs::runMain();
  if (argc == 3 && std::strcmp(argv[1], "probe") == 0) return nbs::probeMain(argv[2]);
  if (argc == 2 && std::strcmp(argv[1], "materialize") == 0) return nbs::treeMain(false);
  if (argc == 2 && std::strcmp(argv[1], "diff") == 0) return nbs::treeMain(true);
  if (argc == 2 && std::strcmp(argv[1], "fuse-upper") == 0) return nbs::fuseUpperMain();
  if (argc == 4 && std::strcmp(argv[1], "userns-hold") == 0) return nbs::holdMain(argv[2], argv[3]);
  std::fprintf(stderr, "usage: nbuild-sandbox launch [--userns] … | run | probe DIR | materialize | diff | fuse-upper | userns-hold FILE SECONDS\n");
  return 2;
}
