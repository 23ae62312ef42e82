// The CLI's entry point: bin/nbuild runs this module, or its bundle dist/nbuild.cjs
// (scripts/bundle.mjs), inside the user namespace the native launcher set up.
import { main } from './main.js';

void main(process.argv.slice(2));
