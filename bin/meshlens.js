#!/usr/bin/env node
// The CLI lives in the build output (`npm run build`); this wrapper is the package's `bin`.
await import('../dist/src/main.js');
