import { InvalidArgumentError, type Command } from 'commander';
import type { EventStore, FilterNode, IndexDefinition } from '../../index.js';
import { describe } from '../../support/describe.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { formatDuration } from '../format.js';
import { writeWithBackpressure } from '../io.js';
import { choiceArg } from '../option-parsers.js';
import { createCountProgress } from '../progress.js';
import {
  renderCreatedIndex,
  renderIndexAnalysis,
  renderIndexList,
  renderIndexUsage,
} from '../render-indexes.js';
import { openWithRecordedPolicy } from '../store-dir.js';

interface StoreOptions {
  dir: string;
  json?: boolean;
}

interface CreateOptions extends StoreOptions {
  name: string;
  fields: string[];
  type?: 'btree' | 'hash';
  unique?: boolean;
  where?: string;
}

interface NamedOptions extends StoreOptions {
  name: string;
}

/** `a,b`: field names separated by commas; the store checks each name and names a bad one. */
function fieldsArg(value: string): string[] {
  const fields = value.split(',').map((field) => field.trim());
  if (fields.some((field) => field === '')) {
    throw new InvalidArgumentError(
      'expected field names separated by commas, e.g. tags.tenant,payload.total.',
    );
  }
  return fields;
}

function parseWhere(text: string): FilterNode {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--where must be a JSON filter node: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(
      `--where must be a JSON filter node, e.g. '{"kind":"eq","field":"type","value":"ORDER.PLACED"}'; ` +
        `got ${describe(parsed)}`,
    );
  }
  // The node itself is checked by createIndex, which names the bad part (definition.where...).
  return parsed as FilterNode;
}

/**
 * Opens the store in --dir (which must exist: index commands never create one) under its recorded
 * retention policy, like every command that reads, runs `use`, closes.
 */
async function withStore<T>(
  dir: string,
  use: (store: EventStore) => Promise<T>,
  access: { readOnly?: boolean } = {},
): Promise<T> {
  const { store } = await openWithRecordedPolicy(dir, access);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** As withStore, for commands that only read: read-only, so they work while the application holds the store. */
async function withReadOnlyStore<T>(dir: string, use: (store: EventStore) => Promise<T>): Promise<T> {
  return withStore(dir, use, { readOnly: true });
}

/** Built-in indexes belong to the engine: name them as such rather than as unknown. */
async function requireUserIndex(store: EventStore, name: string, action: string): Promise<void> {
  const indexes = await store.indexes.listIndexes();
  if (indexes.some((index) => index.builtIn && index.name === name)) {
    const user = indexes.filter((index) => !index.builtIn).map((index) => index.name);
    throw new UsageError(
      `${JSON.stringify(name)} is a built-in index; only user-defined indexes can be ${action} ` +
        `(user-defined: ${user.length === 0 ? 'none' : user.join(', ')})`,
    );
  }
}

async function print(
  ctx: CliContext,
  options: StoreOptions,
  value: unknown,
  text: () => string,
): Promise<void> {
  await writeWithBackpressure(ctx.io.stdout, `${options.json ? JSON.stringify(value, null, 2) : text()}\n`);
}

export function registerIndex(program: Command, ctx: CliContext): void {
  const index = program
    .command('index')
    .summary('create, list, drop and analyze user-defined indexes')
    .description(
      'Manage the user-defined indexes of the store in --dir. An index is built over the existing events ' +
        'and kept up to date by every append; the query planner uses it when it is cheaper than the ' +
        'alternatives (see `tamma-events explain`).',
    );

  index
    .command('create')
    .summary('build a new index over the existing events')
    .description(
      'Build a user-defined index and save its definition in the store. A btree index (the default) serves ' +
        'equality on a leading prefix of its fields plus a range on the next one; a hash index serves ' +
        'equality on every field. A partial index (--where) covers only the events matching the filter. ' +
        'Nothing is changed when the definition is bad or, with --unique, two events share a key.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .requiredOption('--name <name>', 'index name: letters, digits, _ and -, starting with a letter or _')
    .requiredOption(
      '--fields <fields>',
      'comma-separated fields of the key, in order: core fields, tags.<key> or payload.<path>',
      fieldsArg,
    )
    .option('--type <type>', 'btree or hash (default btree)', choiceArg(['btree', 'hash'] as const))
    .option('--unique', 'reject appends whose key the index already holds')
    .option('--where <json>', 'a filter node as JSON: index only the events matching it')
    .option('--json', 'print the IndexInfo object as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ tamma-events index create --dir ./data --name by_tenant_total --fields tags.tenant,payload.total',
        '  $ tamma-events index create --dir ./data --name by_pr --fields tags.prNumber --type hash \\',
        `      --where '{"kind":"prefix","field":"type","value":"PR."}'`,
      ].join('\n'),
    )
    .action(async (options: CreateOptions) => {
      const definition: IndexDefinition = {
        name: options.name,
        fields: options.fields,
        ...(options.type ? { type: options.type } : {}),
        ...(options.unique ? { unique: true } : {}),
        ...(options.where === undefined ? {} : { where: parseWhere(options.where) }),
      };
      await withStore(options.dir, async (store) => {
        const progress = createCountProgress(ctx.io, `index ${options.name}`, 'events');
        const started = performance.now();
        let info;
        try {
          info = await store.indexes.createIndex(definition, {
            onProgress: ({ indexed, total }) => progress.update(indexed, total),
          });
        } finally {
          progress.stop();
        }
        const elapsed = performance.now() - started;
        // Save the built index now: otherwise every later command would rebuild it from the log on open.
        await store.checkpoint();
        const rows = store.stats().events;
        await print(ctx, options, info, () => renderCreatedIndex(info, rows, formatDuration(elapsed)));
      });
    });

  index
    .command('list')
    .summary('list built-in and user-defined indexes')
    .description('List every index of the store in --dir, built-in ones first, with its size.')
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the IndexInfo objects and the total size as JSON')
    .action(async (options: StoreOptions) => {
      await withReadOnlyStore(options.dir, async (store) => {
        const indexes = await store.indexes.listIndexes();
        const { totalBytes } = await store.indexes.getIndexSize();
        await print(ctx, options, { indexes, totalBytes }, () => renderIndexList(indexes, totalBytes));
      });
    });

  index
    .command('drop')
    .summary('drop a user-defined index')
    .description('Drop a user-defined index of the store in --dir; queries fall back to the other indexes.')
    .requiredOption('--dir <path>', 'store directory')
    .requiredOption('--name <name>', 'the index to drop')
    .action(async (options: NamedOptions) => {
      await withStore(options.dir, async (store) => {
        await requireUserIndex(store, options.name, 'dropped');
        await store.indexes.dropIndex(options.name);
        // The checkpoint still holds the dropped index's contents, which every open would load and discard.
        await store.checkpoint();
      });
      await writeWithBackpressure(ctx.io.stdout, `dropped index ${options.name}\n`);
    });

  index
    .command('analyze')
    .summary('print the key statistics of a user-defined index')
    .description(
      'Print what a user-defined index holds: entries, distinct keys, bytes, the share of events it covers, ' +
        'its selectivity, the keys with the most events and (btree) a histogram of its keys.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .requiredOption('--name <name>', 'the index to analyze')
    .option('--json', 'print the IndexAnalysis object as JSON')
    .action(async (options: NamedOptions) => {
      await withReadOnlyStore(options.dir, async (store) => {
        await requireUserIndex(store, options.name, 'analyzed');
        const analysis = await store.indexes.analyzeIndex(options.name);
        const info = (await store.indexes.listIndexes()).find((index) => index.name === options.name);
        await print(ctx, options, analysis, () => renderIndexAnalysis(analysis, info));
      });
    });

  index
    .command('usage')
    .summary('print how often the planner used each index')
    .description(
      'Print, for every index of the store in --dir, how many query plans used it and when last. The counts ' +
        'live in the process that ran the queries: user-defined indexes carry theirs over in the checkpoint ' +
        '(written when a store closes after appends, and by index create and drop), built-in ones start at 0 ' +
        'on every open, and the plans of read-only commands such as `query` are not saved.',
    )
    .requiredOption('--dir <path>', 'store directory')
    .option('--json', 'print the IndexUsage objects as JSON')
    .action(async (options: StoreOptions) => {
      await withReadOnlyStore(options.dir, async (store) => {
        const usage = await store.indexes.getIndexUsage();
        await print(ctx, options, usage, () => renderIndexUsage(usage));
      });
    });
}
