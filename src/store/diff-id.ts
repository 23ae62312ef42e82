// diff_id checks at load time: the digest of a layer's uncompressed tar, computed
// by decompressing the blob as a stream (zlib and zstd-napi run off the JS thread).
// docker load does the same; without it a wrong diff_id would only show when the
// layer is unpacked, after the image has been named (and maybe pushed on).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Digest } from '../image/digest.js';
import { type Compression, layerCompression } from '../image/media-types.js';

async function decompressor(c: Compression): Promise<Transform | undefined> {
  if (c === 'gzip') return createGunzip();
  if (c === 'zstd') {
    const { DecompressStream } = await import('zstd-napi');
    return new DecompressStream();
  }
  return undefined;
}

/** The diff_id of a layer blob of the given media type. */
export async function computeDiffId(file: string, mediaType: string): Promise<Digest> {
  const h = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      h.update(chunk);
      done();
    },
  });
  const d = await decompressor(layerCompression(mediaType));
  if (d) await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), d, sink);
  else await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), sink);
  return Digest.fromHex(h.digest('hex'));
}
