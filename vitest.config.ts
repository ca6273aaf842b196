import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup: ['scripts/scoped-tmpdir.ts'],
          include: ['src/**/*.test.ts', 'relay/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          globalSetup: ['scripts/scoped-tmpdir.ts'],
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Each test starts its own relay processes; two cores, so keep files serial.
          fileParallelism: false,
        },
      },
    ],
  },
});
