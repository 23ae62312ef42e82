// Overlay workspaces and the isolation ladder.
export { probeHost, type HostProbe, type Capability } from './probe.js';
export {
  chooseIsolation,
  parseIsolation,
  selectIsolation,
  probeHostOnce,
  describeMode,
  LADDER,
  type IsolationMode,
  type IsolationReport,
  type ModeVerdict,
} from './ladder.js';
export { materializeLayers, diffSnapshot, type TreeStats } from './copy.js';
export { prepareRunWorkspace, type RunWorkspace } from './workspace.js';
export { runOnLayers, type LayerRun, type LayerCommand, type LayerRunResult } from './run-on-layers.js';
