'use strict';
// The package's CommonJS entry (the "require" condition of package.json "exports"). The package is
// ESM-only: without this entry, `require('@tamma/events')` fails on Node 20 with
// ERR_PACKAGE_PATH_NOT_EXPORTED, which does not say what to do. This says it.
const error = new Error(
  '@tamma/events is an ES module (ESM-only) and cannot be loaded with require(). Use import instead: ' +
    '`import { openEventStore } from \'@tamma/events\'` in an ES module (a .mjs file, or "type": "module" ' +
    "in package.json), or `const { openEventStore } = await import('@tamma/events')` from CommonJS.",
);
error.code = 'ERR_REQUIRE_ESM';
throw error;
