import { readSync } from 'node:fs';

/**
 * Reads `length` bytes of a file from `position` into the start of `into`, looping, since one
 * readSync may return fewer bytes than asked without the file ending. Returns how many it read:
 * fewer than `length` only where the file ends.
 */
export function readFully(fd: number, into: Uint8Array, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
