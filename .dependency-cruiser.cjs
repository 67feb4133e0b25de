// The layers of src/, bottom first: a module may import from its own layer and the layers below it,
// never from a layer above (docs/architecture.md). `npm run lint` runs this, so a back-edge fails CI.
// storage/<engine>/ is a layer of its own above the contract (storage/*.ts) it implements.
const LAYERS = [
  ['errors', '^src/errors\\.ts$'],
  ['support', '^src/support/'],
  ['events', '^src/events/'],
  ['codec', '^src/codec/'],
  ['query', '^src/query/'],
  ['analytics', '^src/analytics/'],
  ['builder', '^src/builder/'],
  ['indexes', '^src/indexes/'],
  ['retention', '^src/retention/'],
  ['storage contract', '^src/storage/[^/]+\\.ts$'],
  ['engines', '^src/storage/[^/]+/'],
  ['store', '^src/store/'],
  ['live', '^src/live/'],
  ['public api', '^src/index\\.ts$'],
  ['front ends', '^src/(cli|demo|server)/'],
];

const upward = LAYERS.slice(0, -1).map(([name, from], i) => ({
  name: `no-upward-from-${name.replace(/ /g, '-')}`,
  comment: `${name} may only import from itself and the layers below it (${
    LAYERS.slice(0, i)
      .map(([below]) => below)
      .join(', ') || 'none'
  })`,
  severity: 'error',
  from: { path: from },
  to: { path: LAYERS.slice(i + 1).map(([, path]) => path) },
  // store/open.ts is the composition root: it opens the engine and wires the live side's plugins.
  ...(name === 'store' ? { from: { path: from, pathNot: '^src/store/open\\.ts$' } } : {}),
}));
const compositionRoot = {
  name: 'open-wires-live-only',
  comment:
    'store/open.ts may reach up to the live side (to wire its plugins), and to nothing else above store',
  severity: 'error',
  from: { path: '^src/store/open\\.ts$' },
  to: { path: LAYERS.slice(LAYERS.findIndex(([name]) => name === 'live') + 1).map(([, path]) => path) },
};

module.exports = {
  forbidden: [
    ...upward,
    compositionRoot,
    {
      name: 'no-engine-to-engine',
      comment: 'one engine never imports another: each stands on the contract alone',
      severity: 'error',
      from: { path: '^src/storage/([^/]+)/' },
      to: { path: '^src/storage/[^/]+/', pathNot: '^src/storage/$1/' },
    },
    {
      name: 'facade-is-backend-neutral',
      comment:
        'the facade reaches engines through the contract (storage/storage-engine.ts); only open.ts and options.ts pick one',
      severity: 'error',
      from: { path: '^src/store/', pathNot: '^src/store/(open|options)\\.ts$' },
      to: { path: '^src/storage/[^/]+/' },
    },
    {
      name: 'no-heavy-drivers-in-core',
      comment: 'pg and ioredis load only in their own engine or cache adapter, never from the core graph',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(storage/postgres|live/redis)' },
      to: { path: 'node_modules/(pg|ioredis)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|test|bench)/' },
  },
};
