import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Logs are silent in tests unless a test asks for them (AG_LOG_LEVEL=debug npm test to see them).
    env: { AG_LOG_LEVEL: process.env.AG_LOG_LEVEL ?? 'silent' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes on fixed loopback addresses: files run one at a time on 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
