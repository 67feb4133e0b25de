import {
  ReplayFields,
  RECORD_HEADER,
  ReplayTag,
  readReplayFields,
  readReplayTag,
} from '../../../codec/record-codec.js';
import { TAG_NUMBER, TAG_STRING, TAG_TRUE } from '../../../codec/tag-codec.js';
import { FRAME_HEADER, RECORD_PREFIX } from '../../../codec/frame.js';
import { readString } from '../../../codec/utf8.js';
import { ByteInterner, hashBytes, sameBytes, toWords } from './byte-interner.js';
import { IdIndex } from './id-index.js';
import type { EventTable, TagIndex } from './event-table.js';

/** A tag key: its index, its bytes (to recognise it without hashing), and a byte interner for its string values. */
interface TagState {
  readonly index: TagIndex;
  readonly key: Int32Array;
  readonly keyLength: number;
  readonly strings: ByteInterner;
}

const NO_BYTES = Buffer.alloc(0);

/**
 * Adds log records to a table, as `table.addRow(...decodeHeader(record))` would, row for row and id
 * for id, but interning names straight from the record bytes: a name seen before (every type and tag
 * key, most aggregate ids and tag values) is found by a hash of its bytes and a comparison, with no
 * JS string made and no Map lookup. A name is decoded, and interned as a string, once: when its bytes
 * are first seen. Tag keys are first compared with the key at the same position in the record before,
 * which they nearly always are.
 *
 * Holds hash tables of a few tens of bytes per distinct name: create one per replay, drop it after.
 */
export class TableReplay {
  private readonly fields = new ReplayFields();
  private readonly tag = new ReplayTag();
  private readonly aggregates = new ByteInterner(1024);
  private readonly types = new ByteInterner();
  /** Tag keys' bytes → index into `tagStates`. */
  private readonly tagKeys = new ByteInterner();
  private readonly tagStates: TagState[] = [];
  /** The tag key last seen at each position of a record's tags. */
  private readonly recentKeys: (TagState | undefined)[] = [];
  /** The memory the frame being added is in (see setBytes); positions below are offsets into it. */
  private bytes: Buffer = NO_BYTES;
  private view: DataView = new DataView(NO_BYTES.buffer, 0, 0);

  constructor(private readonly table: EventTable) {}

  /**
   * Adds the `count` records of a frame (see frame.ts) that starts at `frameOffset` in the log. An
   * empty record is an event cleanup removed: its row stays absent.
   */
  addFrame(frame: Buffer, count: number, frameOffset: number): void {
    const base = this.setBytes(frame);
    const view = this.view;
    const table = this.table;
    for (let i = 0, at = base + FRAME_HEADER; i < count; i++) {
      const length = view.getUint32(at, true);
      const start = at + RECORD_PREFIX;
      if (length === 0) table.skipTo(table.rows + 1);
      else this.addRecord(start, length, frameOffset + (start - base));
      at = start + length;
    }
  }

  /**
   * Points `bytes` and `view` at the memory holding `frame`, and returns where the frame starts in
   * it. The views cover its whole ArrayBuffer, so the many frames read into one buffer share them.
   */
  private setBytes(frame: Buffer): number {
    if (frame.buffer !== this.view.buffer) {
      this.bytes = Buffer.from(frame.buffer);
      this.view = new DataView(frame.buffer);
    }
    return frame.byteOffset;
  }

  /** Adds the record at `[start..start+length)` of `bytes`, which lies at `recordOffset` in the log. */
  private addRecord(start: number, length: number, recordOffset: number): void {
    const view = this.view;
    const fields = this.fields;
    readReplayFields(view, start, fields);
    const aggregate = this.aggregateId(view, fields.aggregateStart, fields.aggregateEnd);
    const typeKey = this.typeKey(view, fields.typeStart, fields.typeEnd);
    const row = this.table.addRowIds(
      aggregate,
      typeKey,
      fields.timestamp,
      fields.version,
      recordOffset,
      length,
    );
    // The id's bytes come first after the header, up to the aggregate id's (record-codec.ts).
    this.table.ids.add(row, IdIndex.hashBytes(view, start + RECORD_HEADER, fields.aggregateStart));
    const tag = this.tag;
    const end = fields.tagsEnd;
    for (let at = fields.tagsStart, position = 0; at < end; position++) {
      at = readReplayTag(view, at, tag);
      let state = this.recentKeys[position];
      if (state === undefined || !sameBytes(state.key, state.keyLength, view, tag.keyStart, tag.keyEnd)) {
        state = this.tagState(view, tag.keyStart, tag.keyEnd);
        this.recentKeys[position] = state;
      }
      const values = state.index.values;
      const kind = tag.kind;
      let value: number;
      if (kind === TAG_STRING) {
        const from = tag.valueStart;
        const to = tag.valueEnd;
        const hash = hashBytes(view, from, to);
        value = state.strings.find(view, from, to, hash);
        if (value < 0) {
          value = values.intern(this.decode(from, to));
          state.strings.add(view, from, to, hash, value);
        }
      } else if (kind === TAG_NUMBER) {
        value = values.intern(tag.number);
      } else {
        value = values.intern(kind === TAG_TRUE);
      }
      state.index.postings.add(value, row);
    }
  }

  private aggregateId(view: DataView, start: number, end: number): number {
    const hash = hashBytes(view, start, end);
    let id = this.aggregates.find(view, start, end, hash);
    if (id < 0) {
      id = this.table.aggregates.intern(this.decode(start, end));
      this.aggregates.add(view, start, end, hash, id);
    }
    return id;
  }

  private typeKey(view: DataView, start: number, end: number): number {
    const hash = hashBytes(view, start, end);
    let id = this.types.find(view, start, end, hash);
    if (id < 0) {
      // internType, not types.intern: it refuses types past the composite keys' type space.
      id = this.table.internType(this.decode(start, end));
      this.types.add(view, start, end, hash, id);
    }
    return id;
  }

  private tagState(view: DataView, start: number, end: number): TagState {
    const hash = hashBytes(view, start, end);
    const known = this.tagKeys.find(view, start, end, hash);
    if (known >= 0) return this.tagStates[known] as TagState;
    const index = this.table.tagIndex(this.decode(start, end));
    // The same index again only if two byte strings decode to one key (invalid UTF-8).
    const strings = this.tagStates.find((state) => state.index === index)?.strings ?? new ByteInterner();
    const state: TagState = { index, key: toWords(view, start, end), keyLength: end - start, strings };
    this.tagKeys.add(view, start, end, hash, this.tagStates.length);
    this.tagStates.push(state);
    return state;
  }

  /** The string in `[start..end)` of `bytes`; Latin-1 decoding is exact, and faster, for ASCII. */
  private decode(start: number, end: number): string {
    const bytes = this.bytes;
    let high = 0;
    for (let i = start; i < end; i++) high |= bytes[i] as number;
    return readString(bytes, start, end, high < 0x80);
  }
}
