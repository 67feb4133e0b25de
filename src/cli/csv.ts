/**
 * RFC 4180 CSV: fields joined by commas, records ended by CRLF; a field holding a comma, a double
 * quote, CR or LF is enclosed in double quotes with its quotes doubled. A field that starts or ends
 * with a space is quoted too, so that lenient readers that trim do not change it.
 */
export function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF included. */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
