#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm install` through the prepare script).
require('../dist/client/cli.js')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err && err.stack ? err.stack : err);
      process.exitCode = 1;
    },
  );
