// checkStore: verify every blob, name, image and unpacked layer of the store, optionally repairing.
import { requireUserNamespace } from '../sandbox/userns.js';
import { checkStore as checkAndRepair, type CheckResult } from '../store/check.js';
import { Store } from '../store/store.js';

export interface CheckStoreOptions {
  storeRoot: string;
  /** Remove what is broken (and the images that need it). */
  repair?: boolean;
}

/** Needs the user namespace (unpacked layers are compared file by file, owners included). */
export async function checkStore(options: CheckStoreOptions): Promise<CheckResult> {
  requireUserNamespace('store check');
  const store = await Store.open(options.storeRoot);
  return checkAndRepair(store, options.repair ?? false);
}
