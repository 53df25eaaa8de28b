#!/usr/bin/env node
import { main } from './cli/main.js';

// The signal handler lives exactly as long as the command: the first Ctrl-C aborts the wait
// (and cancels a running send), a second one leaves at once.
const controller = new AbortController();
const onInterrupt = (): void => {
  if (controller.signal.aborted) {
    process.exit(130);
  }

  controller.abort(new Error('interrupted'));
};
process.on('SIGINT', onInterrupt);
process.on('SIGTERM', onInterrupt);

try {
  process.exitCode = await main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
} finally {
  process.off('SIGINT', onInterrupt);
  process.off('SIGTERM', onInterrupt);
}
