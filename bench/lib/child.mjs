// Runs a suite's task in a fresh Node process, so each engine's heap and RSS are its own.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));

/**
 * Starts `tasks[task](args)` of the module at `moduleUrl` in a child process.
 * Returns { child, result }: result resolves with the task's return value; a task reports progress
 * with ctx.progress(message) or ctx.send(data), which reach onProgress / onMessage.
 */
export function spawnTask(moduleUrl, task, args = {}, { execArgv = [], onProgress, onMessage } = {}) {
  const child = fork(WORKER, [moduleUrl, task], {
    execArgv: ['--expose-gc', ...execArgv],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const result = new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (m) => {
      if (m?.type === 'ready') child.send({ type: 'args', args });
      else if (m?.type === 'progress') onProgress?.(m.message);
      else if (m?.type === 'message') onMessage?.(m.data);
      else if (m?.type === 'result') {
        settled = true;
        resolve(m.result);
      } else if (m?.type === 'error') {
        settled = true;
        reject(new Error(`${task} failed in a child process: ${m.stack ?? m.message}`));
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled)
        reject(Object.assign(new Error(`${task}: child exited (${signal ?? code})`), { code, signal }));
    });
    child.on('error', reject);
  });
  return { child, result };
}

export function runTask(moduleUrl, task, args, options) {
  return spawnTask(moduleUrl, task, args, options).result;
}
