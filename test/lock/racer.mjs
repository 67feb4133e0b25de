// Child process for lock.test.ts: one of several racers that open the same store at the same moment.
// Runs the TypeScript sources (started with `node --import test/support/register-typescript.mjs`),
// stays alive across races, and takes commands as JSON lines on stdin:
//
//   {"cmd":"race","dir":…,"batches":n}  open the store; the loser prints LOCKED <message>; the
//                                        winner prints WON, appends n batches (ACK <racer> <batch>
//                                        <first> <last> each, after the append resolved), then DONE
//   {"cmd":"close"}                      the winner closes the store and prints CLOSED
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const config = JSON.parse(process.argv[2] ?? '{}');
const { openEventStore } = await import(pathToFileURL(config.lib).href);
const racer = config.racer;
let store;

const say = (line) => process.stdout.write(`${line}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  if (command.cmd === 'race') {
    try {
      store = await openEventStore({ dir: command.dir, fsync: 'never' });
    } catch (error) {
      say(error.code === 'STORE_LOCKED' ? `LOCKED ${error.message}` : `ERROR ${error.code} ${error.message}`);
      continue;
    }
    say('WON');
    for (let batch = 0; batch < command.batches; batch++) {
      const events = Array.from({ length: 4 }, (_, i) => ({
        aggregateId: `racer-${racer}`,
        type: 'RACE',
        payload: { racer, batch, i },
      }));
      const stored = await store.append(events);
      say(`ACK ${racer} ${batch} ${stored[0].sequence} ${stored.at(-1).sequence}`);
    }
    say('DONE');
  } else if (command.cmd === 'close') {
    await store?.close();
    store = undefined;
    say('CLOSED');
  }
}
