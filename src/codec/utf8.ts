/**
 * Buffer's native UTF-8 writer. `buffer.write(string, offset, 'utf8')` calls it after normalising
 * its arguments, which costs more than the copy itself for the short strings an event is made of.
 * Present on every Buffer since Node 0.x; the caller must have reserved 3 bytes per UTF-16 unit.
 */
interface NativeWriter {
  utf8Write(text: string, offset: number): number;
  latin1Slice(start: number, end: number): string;
}

export function writeUtf8(buffer: Buffer, text: string, offset: number): number {
  return (buffer as unknown as NativeWriter).utf8Write(text, offset);
}

/**
 * Reads a string written by writeUtf8. When the writer saw that every character was ASCII (its
 * UTF-8 byte count equalled its length), Latin-1 decoding gives the same string at half the cost.
 */
export function readString(buffer: Buffer, start: number, end: number, ascii: boolean): string {
  return ascii
    ? (buffer as unknown as NativeWriter).latin1Slice(start, end)
    : buffer.toString('utf8', start, end);
}
