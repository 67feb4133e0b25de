import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { FRAME_BYTES_LIMIT, RecordWriter } from '../../src/codec/record-codec.js';
import { expectError } from '../support/helpers.js';

describe('RecordWriter, the buffer one append is encoded into', () => {
  it('refuses a batch past what one frame holds with a coded error, before growing', () => {
    const writer = new RecordWriter();
    writer.length = 24;
    const before = writer.buffer;
    let thrown: unknown;
    try {
      writer.ensure(FRAME_BYTES_LIMIT);
    } catch (error) {
      thrown = error;
    }
    expectError(thrown, ValidationError, 'BATCH_TOO_LARGE');
    expect(writer.buffer).toBe(before);
  });

  it('lets go of a buffer one huge batch grew when the next frame starts', () => {
    const writer = new RecordWriter();
    writer.ensure(80 * 1024 * 1024);
    expect(writer.buffer.length).toBeGreaterThanOrEqual(80 * 1024 * 1024);
    writer.reset(24);
    expect(writer.buffer.length).toBe(1 << 20);
    expect(writer.length).toBe(24);
  });
});
