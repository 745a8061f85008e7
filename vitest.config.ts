import { defineConfig } from 'vitest/config';
import swc from 'unplugin-swc';
import SummaryReporter from './test/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Postgres server API tests create their databases on (DATABASE_URL, or an embedded one).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60000,
    hookTimeout: 120000,
    fileParallelism: false,
    reporters: ['default', new SummaryReporter()],
  },
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node, and so Nest, loads the CJS one;
    // vite would hand our sources the ESM one, and a scalar made with one is unknown to the other.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
});
