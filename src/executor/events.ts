// Progress events of a build. The CLI's progress reporters subscribe to these.
import type { Warning } from '../frontend/dockerfile/types.js';

export type BuildEvent =
  | { type: 'step-start'; id: number; stage: string; index: number; total: number; text: string }
  | { type: 'step-output'; id: number; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'step-done'; id: number; cached: boolean; seconds: number }
  | { type: 'step-error'; id: number; message: string }
  /** `check`: a build check's warning (its rule, line, description), the message its one-line form. */
  | { type: 'warning'; message: string; check?: Warning }
  | { type: 'info'; message: string };
