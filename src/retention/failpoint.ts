/**
 * Fail points for crash tests (as FoundationDB and TiKV have): a child process started with
 * `TAMMA_FAILPOINT=<name>` kills itself with SIGKILL when it reaches that point, so a test can
 * check that reopening recovers from a crash at exactly each step of cleanup. Costs one property
 * read per step when unset.
 */
export function failpoint(name: string): void {
  if (process.env.TAMMA_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
