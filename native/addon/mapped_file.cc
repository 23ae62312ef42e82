// mapFile(path, asString): a file mapped read-only instead of read. bin/start.cjs uses it for the
// CLI bundle and its code cache: reading them copied ~1.3 MB through fresh pages on every command
// (~10 ms here, page faults of this kind of VM), and the bundle again into a V8 string. Mapped,
// the code cache is one MAP_POPULATE of pages the page cache already holds, and the bundle is an
// external string V8 reads only where it compiles a function the cache lacks
// (docs/decisions.md, "Start-up: the CLI bundle and its code cache mapped, not read").
#include "addon/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nbaddon {

namespace {

// node_api_create_external_string_latin1: Node >= 20.4 and 18.18, still "experimental" in
// Node 20's headers. Looked up at run time so that the addon stays a plain N-API 8 module that
// loads into any Node 20; without it the caller reads the file instead.
using CreateExternalLatin1 = napi_status (*)(napi_env, char*, size_t, void (*)(napi_env, void*, void*), void*, napi_value*, bool*);

CreateExternalLatin1 createExternalLatin1() {
  static const CreateExternalLatin1 fn =
      reinterpret_cast<CreateExternalLatin1>(dlsym(RTLD_DEFAULT, "node_api_create_external_string_latin1"));
  return fn;
}

struct Mapping {
  void* data;
  size_t length;
};

void unmap(napi_env, void* data, void* hint) { munmap(data, reinterpret_cast<size_t>(hint)); }

Mapping mapWhole(Napi::Env env, const std::string& path, bool populate) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Napi::Error::New(env, path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) < 0) {
    const int e = errno;
    close(fd);
    throw Napi::Error::New(env, path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    throw Napi::Error::New(env, path + ": not a regular file");
  }
  Mapping m{nullptr, static_cast<size_t>(st.st_size)};
  if (m.length > 0) {
    m.data = mmap(nullptr, m.length, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
    if (m.data == MAP_FAILED) {
      const int e = errno;
      close(fd);
      throw Napi::Error::New(env, path + ": mmap: " + std::strerror(e));
    }
  }
  close(fd);
  return m;
}

}  // namespace

// (path, asString): a Buffer over the mapped file, or with asString a latin1 string over it
// (undefined where this Node cannot make one). The mapping lives as long as the value. The file
// must not be rewritten in place while mapped (scripts/bundle.mjs replaces it by a rename).
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "expected a path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const bool asString = info.Length() > 1 && info[1].ToBoolean().Value();
  if (asString && !createExternalLatin1()) return env.Undefined();
  // The code cache is read whole by V8: map it populated. The bundle is read only in part.
  Mapping m = mapWhole(env, path, !asString);
  if (m.length == 0) return asString ? Napi::String::New(env, "") : Napi::Buffer<char>::New(env, 0).As<Napi::Value>();
  napi_value result = nullptr;
  if (asString) {
    bool copied = false;
    napi_status s = createExternalLatin1()(env, static_cast<char*>(m.data), m.length, unmap, reinterpret_cast<void*>(m.length), &result, &copied);
    if (s != napi_ok) {
      munmap(m.data, m.length);
      throw Napi::Error::New(env, path + ": cannot make an external string");
    }
    return Napi::Value(env, result);
  }
  napi_status s = napi_create_external_buffer(env, m.length, m.data, unmap, reinterpret_cast<void*>(m.length), &result);
  if (s != napi_ok) {
    munmap(m.data, m.length);
    throw Napi::Error::New(env, path + ": cannot make an external buffer");
  }
  return Napi::Value(env, result);
}

}  // namespace nbaddon
