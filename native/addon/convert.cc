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

// `count` strings joined by NUL (empty ones too).
std::vector<std::string> splitNul(const std::string& s, size_t count) {
  std::vector<std::string> out;
  if (count == 0) return out;
  size_t at = 0;
  for (;;) {
    size_t end = s.find('\0', at);
    if (end == std::string::npos) {
      out.push_back(s.substr(at));
      return out;
    }
    out.push_back(s.substr(at, end - at));
    at = end + 1;
  }
}

constexpr size_t kSourcedFields = 9;

// Sourced entries come packed (thousands of them): paths, sources and link names as NUL-joined
// strings, and nine numbers each (size, mode, uid, gid, mtime, hash, type, dev, ino; dev and ino
// 0 unless the file has other links) in one Float64Array.
void sourcedFiles(const Napi::Object& o, nb::WriteOptions& w) {
  Napi::Value fv = o.Get("sourcedFields");
  if (!fv.IsTypedArray() || fv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(o.Env(), "sourcedFields must be a Float64Array");
  Napi::Float64Array fields = fv.As<Napi::Float64Array>();
  size_t count = fields.ElementLength() / kSourcedFields;
  std::vector<std::string> paths = splitNul(str(o, "sourcedPaths"), count);
  std::vector<std::string> sources = splitNul(str(o, "sourcedSources"), count);
  std::vector<std::string> links = splitNul(str(o, "sourcedLinks"), count);
  if (fields.ElementLength() % kSourcedFields || paths.size() != count || sources.size() != count || links.size() != count)
    throw Napi::TypeError::New(o.Env(), "sourced files: paths, sources, links and fields disagree");
  w.sourced.reserve(count);
  for (size_t i = 0; i < count; i++) {
    const double* f = fields.Data() + i * kSourcedFields;
    nb::SourcedFile file;
    char type = char(f[6]);
    if (type != '0' && type != '2' && type != '5') throw Napi::TypeError::New(o.Env(), "sourced files: bad type");
    file.type = nb::EntryType(type);
    file.source = std::move(sources[i]);
    file.linkname = std::move(links[i]);
    file.size = uint64_t(f[0]);
    file.mode = uint32_t(f[1]);
    file.uid = uint32_t(f[2]);
    file.gid = uint32_t(f[3]);
    file.mtime = int64_t(f[4]);
    file.hash = f[5] != 0;
    file.dev = dev_t(f[7]);
    file.ino = ino_t(f[8]);
    w.sourced.push_back(std::move(file));
    const std::string& rel = paths[i];
    size_t slash = rel.rfind('/');
    std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (!w.sourcedIn[dir].emplace(name, i).second) throw Napi::TypeError::New(o.Env(), "sourced files: " + rel + " twice");
  }
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
  if (has(o, "sourcedPaths")) sourcedFiles(o, w);
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

Napi::Value hashedFileToJs(Napi::Env env, const nb::HashedCopy& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("digest", c.hash.digest);
  o.Set("size", double(c.hash.size));
  if (c.stable) {
    Napi::Object id = Napi::Object::New(env);
    id.Set("dev", c.identity.dev);
    id.Set("ino", c.identity.ino);
    id.Set("size", c.identity.size);
    id.Set("mtimeMs", c.identity.mtimeMs);
    id.Set("ctimeMs", c.identity.ctimeMs);
    o.Set("identity", id);
  }
  return o;
}

Napi::Value layerResultToJs(Napi::Env env, const nb::LayerResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("digest", r.digest);
  o.Set("diffId", r.diffId);
  o.Set("size", double(r.size));
  o.Set("uncompressedSize", double(r.uncompressedSize));
  if (!r.hashed.empty()) {
    Napi::Array hashed = Napi::Array::New(env, r.hashed.size());
    for (size_t i = 0; i < r.hashed.size(); i++) {
      Napi::Object h = hashedFileToJs(env, r.hashed[i].second).As<Napi::Object>();
      h.Set("index", double(r.hashed[i].first));
      hashed.Set(uint32_t(i), h);
    }
    o.Set("hashed", hashed);
  }
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
