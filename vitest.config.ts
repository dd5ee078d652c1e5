import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Differential suites spawn the Perl tool; two workers match the CI machine's two cores.
    maxWorkers: 2,
  },
});
