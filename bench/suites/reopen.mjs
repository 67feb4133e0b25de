// Reopen time: after a clean close (checkpoint present), after SIGKILL mid-append, and a rebuild
// from the log alone (checkpoint deleted). Every open is timed in a fresh process.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { createTamma, loadLibrary } from '../engines/tamma.mjs';
import { runTask, spawnTask } from '../lib/child.mjs';
import { sampleMemory } from '../lib/memory.mjs';
import { ensureTammaStore } from './memory.mjs';
import { fmtCount, fmtMB, fmtNum, textTable } from '../lib/stats.mjs';
import { createRng, createWorkload } from '../lib/workload.mjs';

const SELF = import.meta.url;

export const tasks = {
  /** Opens an existing store and reports the time to open and the memory it holds once open. */
  async open({ dir }) {
    const { openEventStore } = await loadLibrary();
    const baseline = sampleMemory(0);
    const t = process.hrtime.bigint();
    const store = await openEventStore({ dir });
    const openMs = Number(process.hrtime.bigint() - t) / 1e6;
    const stats = store.stats();
    const memory = sampleMemory(stats.events);
    await store.close();
    return {
      openMs,
      events: stats.events,
      lastSequence: stats.lastSequence,
      lastCheckpointSequence: stats.storage?.lastCheckpointSequence,
      memory,
      baselineRss: baseline.rss,
      engineMemory: stats.memory,
    };
  },

  /**
   * Appends batches until the parent kills this process; reports every acknowledged count. Lets the
   * event loop turn between batches, as a server's would, so timers (fsync, checkpoints) can run.
   */
  async appendUntilKilled({ dir, seed, notifyAfter, maxEvents }, ctx) {
    const engine = await createTamma({ dir, fsync: 'batch' });
    const workload = createWorkload(seed);
    for (let i = 0; i < maxEvents; i += 1000) {
      await engine.append(workload.batch(i, 1000));
      await tick();
      if (i + 1000 >= notifyAfter) void ctx.send({ acknowledged: i + 1000 });
    }
    await engine.close();
    return { finished: true };
  },
};

/** Files whose name mentions "checkpoint", anywhere under dir. */
async function checkpointFiles(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /checkpoint/i.test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function killMidAppend(ctx) {
  const dir = join(ctx.tmp, 'reopen-killed');
  const notifyAfter = ctx.plan.killAfterEvents;
  let acknowledged = 0;
  let killTimer;
  const killDelayMs = 1 + createRng(ctx.seed).int(30);
  ctx.log(`reopen: appending into a child, SIGKILL after ${fmtCount(notifyAfter)} acknowledged events`);
  const { child, result } = spawnTask(
    SELF,
    'appendUntilKilled',
    { dir, seed: ctx.seed, notifyAfter, maxEvents: notifyAfter * 4 },
    {
      onMessage: (m) => {
        acknowledged = Math.max(acknowledged, m.acknowledged);
        // A little later, so that the kill lands while the child is appending, not between batches.
        if (killTimer === undefined) killTimer = setTimeout(() => child.kill('SIGKILL'), killDelayMs);
      },
    },
  );
  const outcome = await result.then(
    () => 'finished before the kill',
    (e) => (e.signal === 'SIGKILL' ? 'killed' : Promise.reject(e)),
  );
  const opened = await runTask(SELF, 'open', { dir });
  await rm(dir, { recursive: true, force: true });
  return {
    outcome,
    killDelayMs,
    notifyAfter,
    acknowledged,
    ...opened,
    replayed: opened.events - (opened.lastCheckpointSequence ?? 0),
    lostAcknowledged: Math.max(0, acknowledged - opened.events),
  };
}

export async function run(ctx) {
  const store = await ensureTammaStore(ctx);
  const clean = [];
  for (let k = 0; k < 3; k++) {
    ctx.log(`reopen: clean open ${k + 1}/3 of ${fmtCount(store.events)} events`);
    clean.push(await runTask(SELF, 'open', { dir: store.dir }));
  }
  const killed = await killMidAppend(ctx);
  // Last, because it deletes the big store's checkpoint.
  const removed = await checkpointFiles(store.dir);
  if (removed.length === 0) throw new Error(`no checkpoint file found under ${store.dir}`);
  await Promise.all(removed.map((f) => rm(f)));
  ctx.log(
    `reopen: rebuild from the log (deleted ${removed.map((f) => f.slice(store.dir.length + 1)).join(', ')})`,
  );
  const rebuild = await runTask(SELF, 'open', { dir: store.dir });
  return {
    events: store.events,
    clean,
    cleanMedianMs: median(clean.map((c) => c.openMs)),
    killed,
    rebuild: { ...rebuild, removed: removed.length, eventsPerSec: rebuild.events / (rebuild.openMs / 1000) },
  };
}

export function report(section) {
  const { clean, killed, rebuild } = section;
  return textTable(
    ['open', 'events', 'replayed from log', 'open ms', 'events/s', 'RSS after open MiB', 'note'],
    [
      [
        'clean close (checkpoint)',
        fmtCount(section.events),
        fmtNum(clean[0].events - (clean[0].lastCheckpointSequence ?? 0)),
        `${fmtNum(section.cleanMedianMs)} (median of ${clean.length})`,
        '',
        fmtMB(clean[clean.length - 1].memory.rss),
        `runs: ${clean.map((c) => fmtNum(c.openMs)).join(', ')} ms`,
      ],
      [
        'after SIGKILL',
        fmtNum(killed.events),
        fmtNum(killed.replayed),
        fmtNum(killed.openMs),
        fmtNum(killed.replayed / (killed.openMs / 1000)),
        fmtMB(killed.memory.rss),
        `${killed.outcome} ${killed.killDelayMs} ms after the first ${fmtCount(killed.notifyAfter)}; ` +
          `${fmtNum(killed.acknowledged)} acknowledged, ${fmtNum(killed.lostAcknowledged)} lost`,
      ],
      [
        'rebuild (checkpoint deleted)',
        fmtNum(rebuild.events),
        fmtNum(rebuild.events),
        fmtNum(rebuild.openMs),
        fmtNum(rebuild.eventsPerSec),
        fmtMB(rebuild.memory.rss),
        '',
      ],
    ],
  );
}
