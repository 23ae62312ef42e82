// Progress events of a build. The CLI's progress reporters subscribe to these.
import type { Warning } from '../frontend/dockerfile/types.js';

/** How a blob was settled without moving its bytes: already in the store, already in the registry, mounted there. */
export type BlobNote = 'cached' | 'exists' | 'mounted';

export type BuildEvent =
  | { type: 'step-start'; id: number; stage: string; index: number; total: number; text: string }
  | { type: 'step-output'; id: number; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'step-done'; id: number; cached: boolean; seconds: number }
  | { type: 'step-error'; id: number; message: string }
  /** `check`: a build check's warning (its rule, line, description), the message its one-line form. */
  | { type: 'warning'; message: string; check?: Warning }
  | { type: 'info'; message: string }
  /** A long step that is not a Dockerfile line (a pull, a push, a cache or an archive written): its blobs follow. */
  | { type: 'task-start'; id: number; text: string }
  | { type: 'task-done'; id: number; seconds: number }
  /**
   * A blob of task `id`: `current` of `total` bytes after `seconds`. Sent when it starts, at most
   * every 100 ms while bytes move (transfer-progress.ts), and once with `done` (and a `note` when
   * no bytes had to move).
   */
  | { type: 'blob'; id: number; digest: string; total: number; current: number; seconds: number; done: boolean; note?: BlobNote }
  /** The end of a build: its time, the image id (config digest; an index's digest), compressed size, cached steps. */
  | { type: 'build-done'; seconds: number; imageId: string; size: number; steps: number; cached: number };
