// diff_id checks at load time: the digest of a layer's uncompressed tar, computed by the layer
// engine decoding the blob as a stream (off the JS thread). docker load does the same; without
// it a wrong diff_id would only show when the layer is unpacked, after the image has been named
// (and maybe pushed on).
import { Digest } from '../image/digest.js';
import { layerCompression } from '../image/media-types.js';
import { layerDigests } from '../native/index.js';

/** The diff_id of a layer blob of the given media type; throws when the blob is not of that type. */
export async function computeDiffId(file: string, mediaType: string): Promise<Digest> {
  const r = await layerDigests(file);
  const expected = layerCompression(mediaType);
  if (r.compression !== expected) {
    const what = (c: string): string => (c === 'none' ? 'an uncompressed tar' : `${c}-compressed`);
    throw new Error(`the blob is ${what(r.compression)}, the media type says ${what(expected)}`);
  }
  return Digest.parse(r.diffId);
}
