import { concurrencySuite } from './contract/concurrency.contract.js';
import { embeddedInMemory, embeddedOnDiskWith } from './contract/embedded-factories.js';

concurrencySuite(embeddedInMemory);
concurrencySuite(embeddedOnDiskWith('fsync always', { fsync: 'always' }));
concurrencySuite(
  embeddedOnDiskWith('fsync batch, 8 KiB segments, checkpoint every 25 events', {
    fsync: 'batch',
    segmentSize: 8192,
    checkpointEvery: 25,
  }),
);
