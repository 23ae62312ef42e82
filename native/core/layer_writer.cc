#include "core/layer_writer.h"

#include <unistd.h>

#include <memory>

#include "core/file_sink.h"
#include "core/gzip_writer.h"
#include "core/layer_reader.h"
#include "core/tree_walker.h"
#include "core/zstd_writer.h"

namespace nb {

namespace {

class PassSink : public Sink {
 public:
  explicit PassSink(Sink& next) : next_(next) {}
  void write(const uint8_t* d, size_t n) override { next_.write(d, n); }
  void finish() override { next_.finish(); }

 private:
  Sink& next_;
};

class NullSink : public Sink {
 public:
  void write(const uint8_t*, size_t) override {}
  void finish() override {}
};

/** The sink that compresses into `file` as `o` asks (none: the tar as it is). */
static std::unique_ptr<Sink> compressorFor(const WriteOptions& o, FileSink& file) {
  switch (o.compression) {
    case Compression::Gzip: return std::make_unique<ParallelGzip>(file, o.level, o.threads, o.gzipMembers);
    case Compression::Zstd: return std::make_unique<ZstdWriter>(file, o.level, o.threads);
    case Compression::None: break;
  }
  return std::make_unique<PassSink>(file);
}

LayerResult writeTo(const WriteOptions& o) {
  Hasher hasher;  // first: joined last, after every sink that hands it buffers
  FileSink file(o.outputPath, hasher);
  std::unique_ptr<Sink> comp = compressorFor(o, file);
  HashingSink tar(*comp, hasher);
  TreeWalker walker(o, tar);
  walker.run();
  tar.finish();
  LayerResult r;
  r.hashed = std::move(walker.hashed());
  r.diffId = tar.digest();
  r.uncompressedSize = tar.size();
  r.size = file.size();
  r.digest = o.compression == Compression::None ? r.diffId : file.digest();
  return r;
}

LayerResult recompressTo(const std::string& inputPath, const WriteOptions& o) {
  LayerReader in(inputPath, false);  // the diff_id below covers every decoded byte
  Hasher hasher;
  FileSink file(o.outputPath, hasher);
  std::unique_ptr<Sink> comp = compressorFor(o, file);
  HashingSink tar(*comp, hasher);
  const uint8_t* p = nullptr;
  while (size_t n = in.view(&p, SIZE_MAX)) tar.write(p, n);
  in.drain();
  tar.finish();
  LayerResult r;
  r.diffId = tar.digest();  // once: digest() finishes the hash
  // The decoder's own sha256 of the tar and the writer's must agree: the same bytes went through.
  if (r.diffId != in.diffId()) throw EngineError("BAD_LAYER", "recompress: the tar changed on its way through: " + inputPath, 0, "", inputPath);
  r.uncompressedSize = tar.size();
  r.size = file.size();
  r.digest = o.compression == Compression::None ? r.diffId : file.digest();
  return r;
}

}  // namespace

LayerResult recompressLayer(const std::string& inputPath, const WriteOptions& o) {
  try {
    return recompressTo(inputPath, o);
  } catch (...) {
    unlink(o.outputPath.c_str());  // never leave a partial blob behind
    throw;
  }
}

LayerResult digestTree(const WriteOptions& o) {
  Hasher hasher;
  NullSink none;
  HashingSink tar(none, hasher);
  TreeWalker(o, tar).run();
  tar.finish();
  hasher.wait();  // the tar's last buffers are hashed on the hasher's thread (FileSink::finish waits for writeLayer)
  LayerResult r;
  r.diffId = r.digest = tar.digest();
  r.uncompressedSize = r.size = tar.size();
  return r;
}

LayerResult writeLayer(const WriteOptions& o) {
  try {
    return writeTo(o);
  } catch (...) {
    unlink(o.outputPath.c_str());  // never leave a partial blob behind
    throw;
  }
}

}  // namespace nb
