// Stores for the user-namespace test set (docs/design.md "Tests"): made through the API
// (loadImages), which needs the process to be root of a user namespace, as that set's is.
import { loadImages } from '../../src/index.js';
import { busyboxImage, tempDir } from './nbuild-cli.js';

/** A fresh store with busybox:latest loaded (nbuild-cli.ts's storeWithBusybox, through the API). */
export async function apiStoreWithBusybox(): Promise<string> {
  const storeRoot = tempDir('store');
  await loadImages({ storeRoot, input: busyboxImage(), tag: 'busybox:latest' });
  return storeRoot;
}
