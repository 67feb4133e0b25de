#!/usr/bin/env node
import { runCli } from './run.js';

// `tamma-events query ... | head` closes stdout early; the write that notices fails with EPIPE.
// Swallowing it here lets the command see a destroyed stream and stop quietly instead of crashing.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const io = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  // Progress bars and prompts are drawn on stderr.
  isTTY: process.stderr.isTTY === true,
};

process.exitCode = await runCli(process.argv.slice(2), io);
