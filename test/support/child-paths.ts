import { fileURLToPath } from 'node:url';

/**
 * Paths a test needs to run a child process against this checkout: crash and concurrency tests
 * start `node --import REGISTER writer.mjs` with the TypeScript sources at LIB, from ROOT.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGISTER = fileURLToPath(new URL('./register-typescript.mjs', import.meta.url));
export const LIB = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
