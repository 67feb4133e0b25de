import type { LivePart } from '../../store/live-part.js';
import type { SubscriptionService } from '../../store/subscription-types.js';
import { SubscriptionHub } from './subscription-hub.js';

/**
 * The store's subscriptions as a live part: the hub is the plugin on the commit and change hooks
 * and the service behind store.subscribe, store.subscriptions and store.waitFor. Once the store is
 * open it reads through the store's own global read (so the read runner's plugins see it).
 */
export const subscriptionsPart: LivePart<SubscriptionService> = {
  name: 'subscriptions',
  create(_value, { clock, dir, followIntervalMs }) {
    const hub = new SubscriptionHub(clock);
    return {
      api: hub,
      plugin: hub,
      attach: (engine, store) =>
        hub.attach({
          read: (fromSequence, limit) => store.read({ fromSequence, limit }),
          refresh: () => store.refresh(),
          lastSequence: () => engine.stats().lastSequence,
          readOnly: engine.capabilities.readOnly,
          dir: engine.capabilities.durable ? dir : undefined,
          followIntervalMs,
        }),
    };
  },
};
