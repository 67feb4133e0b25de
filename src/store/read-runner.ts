import type { ReadCall } from './hooks.js';
import type { PluginHost } from './plugin-host.js';

/**
 * The one path every read of the store takes (getEvents, getEventsByType, getEventsInRange,
 * queryEvents, read, and the builder's execute, page, stream and explain): around it run the
 * plugins' aroundRead, after it their afterRead. With no plugin watching reads it adds nothing but
 * the call: the read is the engine's.
 */
export class ReadRunner {
  constructor(private readonly plugins: PluginHost) {}

  /** A read that returns a whole result; `count` says how many rows it returned. */
  run<R>(call: ReadCall, read: () => Promise<R>, count: (result: R) => number): Promise<R> {
    if (!this.plugins.watchesReads) return read();
    const started = performance.now();
    return this.plugins.aroundRead(call, read).then(
      (result) => {
        this.plugins.afterRead({
          call,
          durationMs: performance.now() - started,
          startedAt: started,
          rows: count(result),
        });
        return result;
      },
      (error: unknown) => {
        this.plugins.afterRead({
          call,
          durationMs: performance.now() - started,
          startedAt: started,
          rows: 0,
          error,
        });
        throw error;
      },
    );
  }

  /** A streamed read: observed when it ends, however it ends (done, thrown, or abandoned by the consumer). */
  stream<R>(
    call: ReadCall,
    read: () => AsyncIterable<R>,
    count: (item: R) => number = one,
  ): AsyncIterable<R> {
    if (!this.plugins.watchesReads) return read();
    const plugins = this.plugins;
    return {
      async *[Symbol.asyncIterator]() {
        const started = performance.now();
        let rows = 0;
        let failure: { error: unknown } | undefined;
        try {
          for await (const row of read()) {
            rows += count(row);
            yield row;
          }
        } catch (error) {
          failure = { error };
          throw error;
        } finally {
          plugins.afterRead({
            call,
            durationMs: performance.now() - started,
            startedAt: started,
            rows,
            ...(failure === undefined ? {} : { error: failure.error }),
          });
        }
      },
    };
  }
}

/** A streamed item is one row, unless the stream yields batches (an export's event columns). */
const one = (): number => 1;
