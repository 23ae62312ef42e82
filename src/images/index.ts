// The images API: what `nbuild images|inspect|history|save|load|tag|rmi|prune|pull|push|store check` do,
// as functions with typed options and results (the CLI handlers map flags to these and render).
export { listImages, type ImageFilter, type ImageSummary, type ListImagesOptions } from './list.js';
export { inspectImages, type ImageDetails, type IndexDetails, type InspectImagesOptions } from './inspect.js';
export { saveImages, type SaveFormat, type SaveImagesOptions } from './save.js';
export { loadImages, type LoadedImageSummary, type LoadImagesOptions } from './load.js';
export { tagImage, type TagImageOptions } from './tag.js';
export { removeImages, type RemoveImagesOptions, type RemoveImagesResult } from './remove.js';
export { pruneStore, type PruneStoreOptions } from './prune.js';
export { pullImage, type PulledImage, type PullImageOptions } from './pull.js';
export { pushImage, type PushImageOptions } from './push.js';
export { imageHistory, type ImageHistory, type ImageHistoryEntry, type ImageHistoryOptions } from './history.js';
export { checkStore, type CheckStoreOptions } from './check.js';
