// N-API entry point: each export copies its arguments and queues one whole operation.
#include <libdeflate.h>
#include <napi.h>
#include <zlib.h>
#include <sys/stat.h>
#include <zstd.h>

#include "addon/convert.h"
#include "addon/hash.h"
#include "addon/mapped_file.h"
#include "addon/promise_worker.h"
#include "addon/spawn.h"
#include "core/dir_list.h"
#include "core/file_hash.h"
#include "core/layer_reader.h"
#include "core/thread_pool.h"
#include "core/view_mount.h"
#include "core/xattrs.h"

namespace nbaddon {

namespace {

Napi::Object argObject(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "expected an options object");
  return info[0].As<Napi::Object>();
}

// The first argument as an array of paths (strings), copied for the worker thread.
std::vector<std::string> pathsArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(info.Env(), "expected an array of paths");
  Napi::Array a = info[0].As<Napi::Array>();
  std::vector<std::string> paths;
  paths.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), "expected an array of paths");
    paths.push_back(v.As<Napi::String>().Utf8Value());
  }
  return paths;
}

Napi::Value WriteLayer(const Napi::CallbackInfo& info) {
  nb::WriteOptions o = toWriteOptions(argObject(info));
  return PromiseWorker<nb::LayerResult>::start(info.Env(), [o] { return nb::writeLayer(o); }, layerResultToJs);
}

// { inputPath, outputPath, compression, level, gzipEngine, threads, sourceDir: '' , mode }
Napi::Value RecompressLayer(const Napi::CallbackInfo& info) {
  Napi::Object args = argObject(info);
  Napi::Value in = args.Get("inputPath");
  if (!in.IsString()) throw Napi::TypeError::New(info.Env(), "inputPath must be a string");
  std::string input = in.As<Napi::String>().Utf8Value();
  nb::WriteOptions o = toWriteOptions(args);
  return PromiseWorker<nb::LayerResult>::start(info.Env(), [input, o] { return nb::recompressLayer(input, o); }, layerResultToJs);
}

Napi::Value DigestTree(const Napi::CallbackInfo& info) {
  nb::WriteOptions o = toWriteOptions(argObject(info));
  return PromiseWorker<nb::LayerResult>::start(info.Env(), [o] { return nb::digestTree(o); }, layerResultToJs);
}

Napi::Value ExtractLayer(const Napi::CallbackInfo& info) {
  nb::ExtractOptions o = toExtractOptions(argObject(info));
  return PromiseWorker<nb::LayerResult>::start(info.Env(), [o] { return nb::extractLayer(o); }, layerResultToJs);
}

Napi::Value Sha256File(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "expected a path");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  return PromiseWorker<nb::FileHash>::start(
      info.Env(), [path] { return nb::sha256File(path); },
      [](Napi::Env env, const nb::FileHash& h) -> Napi::Value {
        Napi::Object o = Napi::Object::New(env);
        o.Set("digest", h.digest);
        o.Set("size", double(h.size));
        return o;
      });
}

// Many files' sha256 in one call off the JS thread (a cold COPY of thousands of small files: one
// call and one promise per file cost more than reading them). Digests in the order given; the
// first file that cannot be read fails the call, naming it.
Napi::Value Sha256Files(const Napi::CallbackInfo& info) {
  std::vector<std::string> paths = pathsArg(info);
  return PromiseWorker<std::vector<std::string>>::start(
      info.Env(),
      [paths] {
        std::vector<std::string> digests;
        digests.reserve(paths.size());
        for (const std::string& p : paths) digests.push_back(nb::sha256File(p).digest);
        return digests;
      },
      [](Napi::Env env, const std::vector<std::string>& digests) -> Napi::Value {
        Napi::Array out = Napi::Array::New(env, digests.size());
        for (size_t i = 0; i < digests.size(); i++) out.Set(uint32_t(i), digests[i]);
        return out;
      });
}

Napi::Value CopyFileHashed(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "expected two paths");
  std::string src = info[0].As<Napi::String>().Utf8Value();
  std::string dst = info[1].As<Napi::String>().Utf8Value();
  return PromiseWorker<nb::HashedCopy>::start(
      info.Env(), [src, dst] { return nb::copyFileHashed(src, dst); },
      [](Napi::Env env, const nb::HashedCopy& c) -> Napi::Value { return hashedFileToJs(env, c); });
}

// The context walk's folders, listed in one call off the JS thread. Per folder: its names
// joined by NUL (one string, not one per entry), its entry count and digest; per entry six
// numbers (mode, dev, ino, size, mtimeMs, ctimeMs) in one Float64Array; symlink targets in order.
Napi::Value ListDirs(const Napi::CallbackInfo& info) {
  std::vector<std::string> dirs = pathsArg(info);
  return PromiseWorker<nb::DirListings>::start(
      info.Env(), [dirs] { return nb::listDirs(dirs); },
      [](Napi::Env env, const nb::DirListings& r) -> Napi::Value {
        size_t total = 0;
        for (const nb::DirListing& d : r.dirs) total += d.entries.size();
        Napi::Float64Array stats = Napi::Float64Array::New(env, total * 6);
        Napi::Array names = Napi::Array::New(env, r.dirs.size());
        Napi::Array counts = Napi::Array::New(env, r.dirs.size());
        Napi::Array digests = Napi::Array::New(env, r.dirs.size());
        Napi::Array links = Napi::Array::New(env);
        size_t k = 0;
        uint32_t nLinks = 0;
        std::string joined;
        for (size_t i = 0; i < r.dirs.size(); i++) {
          const nb::DirListing& d = r.dirs[i];
          joined.clear();
          for (const nb::ListedEntry& e : d.entries) {
            if (&e != &d.entries.front()) joined.push_back('\0');
            joined += e.name;
            double* s = stats.Data() + 6 * k++;
            s[0] = e.mode, s[1] = e.dev, s[2] = e.ino, s[3] = e.size, s[4] = e.mtimeMs, s[5] = e.ctimeMs;
            if (S_ISLNK(mode_t(e.mode))) links.Set(nLinks++, Napi::String::New(env, e.link));
          }
          names.Set(uint32_t(i), Napi::String::New(env, joined));
          counts.Set(uint32_t(i), double(d.entries.size()));
          digests.Set(uint32_t(i), d.digest);
        }
        Napi::Object o = Napi::Object::New(env);
        o.Set("names", names);
        o.Set("counts", counts);
        o.Set("stats", stats);
        o.Set("links", links);
        o.Set("digests", digests);
        o.Set("newestCtimeMs", r.newestCtimeMs);
        return o;
      });
}

// digest, diff_id and sizes of a layer blob, decoded without unpacking it (load's diff_id
// check), and the compression its magic bytes name, which the caller holds to the media type.
struct BlobDigests {
  nb::LayerResult r;
  std::string compression;
};

Napi::Value LayerDigests(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "expected a path");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  return PromiseWorker<BlobDigests>::start(
      info.Env(),
      [path] {
        nb::LayerReader in(path);
        in.drain();
        return BlobDigests{{in.blobDigest(), in.diffId(), in.blobSize(), in.tarSize(), {}}, in.compression()};
      },
      [](Napi::Env env, const BlobDigests& d) -> Napi::Value {
        Napi::Object o = layerResultToJs(env, d.r).As<Napi::Object>();
        o.Set("compression", d.compression);
        return o;
      });
}

// Synchronous: two short syscalls for a file without attributes, called once per copied file.
Napi::Value CopyXattrs(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "expected two paths");
  std::string src = info[0].As<Napi::String>().Utf8Value();
  std::string dst = info[1].As<Napi::String>().Utf8Value();
  try {
    nb::copyKeptXattrs(src, dst);
  } catch (const nb::EngineError& e) {
    toJsError(info.Env(), e).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

// Synchronous: one mount (a short-lived thread, see view_mount.h) or one umount2, per view.
Napi::Value MountOverlayView(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString()) throw Napi::TypeError::New(info.Env(), "expected parent, lower and target");
  try {
    nb::mountOverlayView(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::String>().Utf8Value());
  } catch (const nb::EngineError& e) {
    toJsError(info.Env(), e).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

Napi::Value UnmountView(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "expected a path");
  try {
    nb::unmountView(info[0].As<Napi::String>().Utf8Value());
  } catch (const nb::EngineError& e) {
    toJsError(info.Env(), e).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("zstd", ZSTD_versionString());
  o.Set("deflate", std::string("zlib ") + zlibVersion() + ", libdeflate " + LIBDEFLATE_VERSION_STRING);
  o.Set("threads", double(nb::hardwareThreads()));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("writeLayer", Napi::Function::New(env, WriteLayer));
  exports.Set("recompressLayer", Napi::Function::New(env, RecompressLayer));
  exports.Set("digestTree", Napi::Function::New(env, DigestTree));
  exports.Set("extractLayer", Napi::Function::New(env, ExtractLayer));
  exports.Set("sha256File", Napi::Function::New(env, Sha256File));
  exports.Set("sha256Files", Napi::Function::New(env, Sha256Files));
  exports.Set("copyFileHashed", Napi::Function::New(env, CopyFileHashed));
  exports.Set("listDirs", Napi::Function::New(env, ListDirs));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("layerDigests", Napi::Function::New(env, LayerDigests));
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfo));
  exports.Set("copyXattrs", Napi::Function::New(env, CopyXattrs));
  exports.Set("mountOverlayView", Napi::Function::New(env, MountOverlayView));
  exports.Set("unmountView", Napi::Function::New(env, UnmountView));
  exports.Set("spawnPiped", Napi::Function::New(env, SpawnPiped));
  InitHash(env, exports);
  return exports;
}

}  // namespace

}  // namespace nbaddon

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return nbaddon::Init(env, exports); }

NODE_API_MODULE(nbuild_native, InitModule)
