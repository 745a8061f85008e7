import { defineConfig } from 'vitest/config';
import swc from 'unplugin-swc';
import SummaryReporter from './test/summary-reporter.js';

export default defineConfig({
  test: {
    testTimeout: 60000,
    hookTimeout: 120000,
    reporters: ['default', new SummaryReporter()],
    projects: [
      {
        // Pure functions: no database, files in parallel (`npm run test:unit`).
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/support/build-dist.ts'] },
      },
      {
        // The API, CLI and end-to-end tests: each file creates its databases on one Postgres server
        // (DATABASE_URL, or an embedded one), one file at a time (`npm run test:api`).
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/api/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/build-dist.ts', 'test/support/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node, and so Nest, loads the CJS one;
    // vite would hand our sources the ESM one, and a scalar made with one is unknown to the other.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
});
