// Child-process entry: node worker.mjs <module-url> <task>; arguments arrive over IPC.
const [moduleUrl, task] = process.argv.slice(2);

const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));

process.once('message', async (m) => {
  try {
    const mod = await import(moduleUrl);
    const fn = mod.tasks?.[task];
    if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no task ${task}`);
    const ctx = {
      progress: (message) => process.send({ type: 'progress', message }),
      send: (data) => send({ type: 'message', data }),
    };
    const result = await fn(m.args, ctx);
    await send({ type: 'result', result });
    process.exit(0);
  } catch (error) {
    await send({ type: 'error', message: String(error?.message ?? error), stack: error?.stack });
    process.exit(1);
  }
});
process.send({ type: 'ready' });
