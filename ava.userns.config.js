// The user-namespace test set (see ava.config.js): scripts/run-tests.sh runs it with
// `nbuild-sandbox launch --userns -- ava --config ava.userns.config.js`.
import { USERNS_DIRS, common } from './ava.config.js';

export default {
  ...common,
  files: USERNS_DIRS.map((dir) => `${dir}**/*.test.js`),
};
