import type { LivePart } from '../../store/live-part.js';
import type { StoreMonitor } from '../../store/store-monitor.js';
import { resolveMonitorOptions } from './monitor-options.js';
import { PerformanceMonitor } from './performance-monitor.js';

/** openEventStore's `monitor` option → `store.monitor`: on unless `monitor: false`. */
export const performanceMonitorPart: LivePart<StoreMonitor> = {
  name: 'monitor',
  create(value, { clock, dir }) {
    const monitor = new PerformanceMonitor(resolveMonitorOptions(value), clock, dir);
    return { api: monitor, plugin: monitor.plugin, attach: (engine) => monitor.attach(engine) };
  },
};
