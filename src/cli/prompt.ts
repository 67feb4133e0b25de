import { createInterface } from 'node:readline';
import type { CliIo } from './io.js';

/** Asks a yes/no question on stderr; anything but y/yes (or the input ending) means no. */
export function confirm(io: CliIo, question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
    let answered = false;
    rl.once('line', (answer) => {
      answered = true;
      rl.close();
      resolve(/^\s*y(es)?\s*$/i.test(answer));
    });
    // Ctrl-D, or stdin that ends without a line, must not leave the command hanging.
    rl.once('close', () => {
      if (!answered) resolve(false);
    });
    io.stderr.write(`${question} [y/N] `);
  });
}
