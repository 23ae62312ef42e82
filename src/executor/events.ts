// Progress events of a build. The CLI's progress reporters subscribe to these.
export type BuildEvent =
  | { type: 'step-start'; id: number; stage: string; index: number; total: number; text: string }
  | { type: 'step-output'; id: number; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'step-done'; id: number; cached: boolean; seconds: number }
  | { type: 'step-error'; id: number; message: string }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string };
