import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: {
      forks: {
        // Worker threads inherit these flags: the scan workers load src/query/scan-worker.ts with them.
        execArgv: [
          '--import',
          fileURLToPath(new URL('./test/support/register-typescript.mjs', import.meta.url)),
        ],
      },
    },
  },
});
