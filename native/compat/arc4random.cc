// libstdc++ is linked into the addon and the helper (binding.gyp), and its random_device object
// comes with it (std::string's code pulls it in) although nbuild never uses it. Built against
// glibc 2.36, that object calls arc4random, which glibc has only from 2.36: this definition,
// hidden inside each binary, keeps the prebuilt binaries running on glibc 2.34
// (scripts/build-prebuilt.sh checks the newest glibc symbol they use).
#include <cerrno>
#include <cstdint>
#include <sys/random.h>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t v = 0;
  while (getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
    if (errno != EINTR) break;  // cannot happen for 4 bytes once the pool is ready
  }
  return v;
}
