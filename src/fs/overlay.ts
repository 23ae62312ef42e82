// The overlay vocabulary as TypeScript needs it. The store's unpacked layers, a RUN's changes and
// a single-layer view are overlayfs dirs, where a deletion is a 0/0 character device. The rest of
// the vocabulary (the tar names `.wh.NAME` and `.wh..wh..opq`, the opaque xattrs) lives in
// native/core/overlay.h: the layer writer, the extractor and the sandbox apply it, and TS only
// picks the mode (`whiteouts: 'overlay' | 'apply'`, `input: 'overlay-upper' | 'plain'`).

/** The part of a `Stats` (or `Dirent` plus lstat) that tells a whiteout. */
export interface DeviceStat {
  isCharacterDevice(): boolean;
  rdev: number;
}

/** True for an overlayfs whiteout: the name is deleted, and hides what lower layers have there. */
export function isWhiteout(st: DeviceStat): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}
