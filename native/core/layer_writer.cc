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

class NullSink : public Sink {
 public:
  void write(const uint8_t*, size_t) override {}
  void finish() override {}
};

/** The sink that compresses into `file` as `o` asks (gzip or zstd). */
static std::unique_ptr<Sink> compressorFor(const WriteOptions& o, FileSink& file) {
  if (o.compression == Compression::Zstd) return std::make_unique<ZstdWriter>(file, o.level, o.threads);
  return std::make_unique<ParallelGzip>(file, o.level, o.threads, o.gzipMembers);
}

// The tar that `feed(sink)` writes, encoded as o.compression into o.outputPath. Uncompressed, the
// blob is the tar: written as it passes and hashed once, its digest the diff_id. Compressed, the
// tar is hashed on its way to the compressor and the blob as it is written.
template <typename Feed>
LayerResult encodeTo(const WriteOptions& o, Feed feed) {
  Hasher hasher;  // first: joined last, after every sink that hands it buffers
  LayerResult r;
  if (o.compression == Compression::None) {
    PlainFileSink file(o.outputPath);
    HashingSink tar(file, hasher);
    feed(tar, r);
    tar.finish();
    hasher.wait();  // the tar's last buffers are hashed on the hasher's thread
    r.diffId = r.digest = tar.digest();  // once: digest() finishes the hash
    r.uncompressedSize = r.size = tar.size();
    return r;
  }
  FileSink file(o.outputPath, hasher);
  std::unique_ptr<Sink> comp = compressorFor(o, file);
  HashingSink tar(*comp, hasher);
  feed(tar, r);
  tar.finish();  // the compressor's finish finishes the file, which waits for the hasher
  r.diffId = tar.digest();
  r.uncompressedSize = tar.size();
  r.size = file.size();
  r.digest = file.digest();
  return r;
}

LayerResult writeTo(const WriteOptions& o) {
  return encodeTo(o, [&o](Sink& tar, LayerResult& r) {
    TreeWalker walker(o, tar);
    walker.run();
    r.hashed = std::move(walker.hashed());
  });
}

LayerResult recompressTo(const std::string& inputPath, const WriteOptions& o) {
  LayerReader in(inputPath, false);  // the diff_id below covers every decoded byte
  LayerResult r = encodeTo(o, [&in](Sink& tar, LayerResult&) {
    const uint8_t* p = nullptr;
    while (size_t n = in.view(&p, SIZE_MAX)) tar.write(p, n);
    in.drain();
  });
  // The decoder's own sha256 of the tar and the writer's must agree: the same bytes went through.
  if (r.diffId != in.diffId()) throw EngineError("BAD_LAYER", "recompress: the tar changed on its way through: " + inputPath, 0, "", inputPath);
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
