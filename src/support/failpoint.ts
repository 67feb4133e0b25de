/**
 * Fail points for crash tests (as FoundationDB and TiKV have): a child process started with
 * `TAMMA_FAILPOINT=<name>` kills itself with SIGKILL when it reaches that point, so a test can
 * check that reopening recovers from a crash at exactly each step of cleanup. `<name>@<n>` kills it
 * the n-th time instead (a step repeated per log segment). Costs one property read per step when unset.
 */
const passed = new Map<string, number>();

export function failpoint(name: string): void {
  const target = process.env.TAMMA_FAILPOINT;
  if (target === undefined || !target.startsWith(name)) return;
  if (target === name) process.kill(process.pid, 'SIGKILL');
  if (target.charAt(name.length) !== '@') return;
  const times = (passed.get(name) ?? 0) + 1;
  passed.set(name, times);
  if (times === Number(target.slice(name.length + 1))) process.kill(process.pid, 'SIGKILL');
}
