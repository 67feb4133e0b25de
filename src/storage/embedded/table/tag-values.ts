import type { TagValue } from '../../../events/types.js';
import { Dictionary } from './dictionary.js';

/**
 * One tag key's values interned to dense ids: Dictionary<TagValue> under the name the event table's
 * tag indexes use. It adds nothing; code that is rewritten may name Dictionary<TagValue> instead.
 */
export class TagValues extends Dictionary<TagValue> {}
