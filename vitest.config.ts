import { defineConfig } from 'vitest/config';
import swc from 'unplugin-swc';
import SummaryReporter from './test/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 120000,
    fileParallelism: false,
    reporters: ['default', new SummaryReporter()],
  },
  plugins: [swc.vite({ module: { type: 'es6' } })],
});
