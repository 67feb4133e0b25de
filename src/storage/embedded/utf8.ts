/**
 * Buffer's native UTF-8 writer. `buffer.write(string, offset, 'utf8')` calls it after normalising
 * its arguments, which costs more than the copy itself for the short strings an event is made of.
 * Present on every Buffer since Node 0.x; the caller must have reserved 3 bytes per UTF-16 unit.
 */
interface NativeWriter {
  utf8Write(text: string, offset: number): number;
}

export function writeUtf8(buffer: Buffer, text: string, offset: number): number {
  return (buffer as unknown as NativeWriter).utf8Write(text, offset);
}
