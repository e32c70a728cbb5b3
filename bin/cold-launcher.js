#!/usr/bin/env -S node --max-semi-space-size=1
'use strict';
// The cold-launcher command: the same code the Azure Functions run (see shared/cli).
let main;
try {
  ({ main } = require('../dist/shared/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('cold-launcher is not built yet: run `npm install` (or `npm run build`) first\n');
    process.exit(2);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`cold-launcher: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
