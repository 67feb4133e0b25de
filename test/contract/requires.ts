import { describe, test, type TestFunction } from 'vitest';
import type { StorageCapabilities } from '../../src/storage/storage-engine.js';
import type { StoreFactory } from './factory.js';

type Capability = keyof StorageCapabilities;

/**
 * `describe` and `test` for what needs capabilities: when the factory's engine lacks one, the suite
 * or test is registered skipped (vitest reports it) and its title says which, rather than passing
 * without having run.
 */
export function requires(factory: StoreFactory, ...capabilities: Capability[]) {
  const lacking = capabilities.filter((capability) => !factory.capabilities[capability]);
  const present = lacking.length === 0;
  const title = (name: string) => (present ? name : `${name} (skipped: engine lacks ${lacking.join(', ')})`);
  return {
    describe(name: string, body: () => void): void {
      (present ? describe : describe.skip)(title(name), body);
    },
    test(name: string, fn: TestFunction): void {
      (present ? test : test.skip)(title(name), fn);
    },
  };
}
