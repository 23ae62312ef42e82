#include "addon/convert.h"

#include "addon/promise_worker.h"

namespace nbaddon {

namespace {

std::string str(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(k) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

bool has(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  return !v.IsUndefined() && !v.IsNull();
}

double num(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::vector<nb::IdMapEntry> ranges(const Napi::Object& m, const char* k) {
  std::vector<nb::IdMapEntry> out;
  Napi::Array a = m.Get(k).As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Object e = a.Get(i).As<Napi::Object>();
    out.push_back({uint32_t(num(e, "containerId")), uint32_t(num(e, "hostId")), uint32_t(num(e, "size"))});
  }
  return out;
}

nb::IdMap idMap(const Napi::Object& o) {
  nb::IdMap m;
  if (!has(o, "idMap")) return m;
  Napi::Object im = o.Get("idMap").As<Napi::Object>();
  m.uids = ranges(im, "uids");
  m.gids = ranges(im, "gids");
  return m;
}

}  // namespace

nb::WriteOptions toWriteOptions(const Napi::Object& o) {
  nb::WriteOptions w;
  w.sourceDir = str(o, "sourceDir");
  w.outputPath = str(o, "outputPath");
  w.overlayUpper = str(o, "mode") == "overlay-upper";
  std::string c = str(o, "compression");
  w.compression = c == "gzip" ? nb::Compression::Gzip : c == "zstd" ? nb::Compression::Zstd : nb::Compression::None;
  w.level = int(num(o, "level"));
  w.gzipMembers = has(o, "gzipEngine") && str(o, "gzipEngine") == "libdeflate";
  w.threads = unsigned(num(o, "threads"));
  w.idMap = idMap(o);
  if (has(o, "clampMtime")) w.clampMtime = int64_t(num(o, "clampMtime"));
  if (has(o, "exclude")) {
    Napi::Array a = o.Get("exclude").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) w.exclude.insert(a.Get(i).As<Napi::String>().Utf8Value());
  }
  return w;
}

nb::ExtractOptions toExtractOptions(const Napi::Object& o) {
  nb::ExtractOptions x;
  x.inputPath = str(o, "inputPath");
  x.destDir = str(o, "destDir");
  x.overlayWhiteouts = str(o, "whiteouts") == "overlay";
  if (has(o, "whiteoutsOver")) {
    Napi::Array a = o.Get("whiteoutsOver").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) x.whiteoutsOver.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  x.idMap = idMap(o);
  x.ignoreChownErrors = has(o, "ignoreChownErrors") && o.Get("ignoreChownErrors").ToBoolean();
  if (has(o, "expectedDiffId")) x.expectedDiffId = str(o, "expectedDiffId");
  x.addArchive = has(o, "addArchive") && o.Get("addArchive").ToBoolean();
  return x;
}

Napi::Value layerResultToJs(Napi::Env env, const nb::LayerResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("digest", r.digest);
  o.Set("diffId", r.diffId);
  o.Set("size", double(r.size));
  o.Set("uncompressedSize", double(r.uncompressedSize));
  return o;
}

Napi::Error toJsError(Napi::Env env, const nb::EngineError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("code", e.code);
  if (e.err) err.Set("errno", double(e.err));
  if (!e.syscall.empty()) err.Set("syscall", e.syscall);
  if (!e.path.empty()) err.Set("path", e.path);
  return err;
}

}  // namespace nbaddon
