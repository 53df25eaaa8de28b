import type { ErrorCode } from '../errors.js';

/** The `beckon` CLI's exit statuses; docs/client.md and `beckon --help` list the same. */
export const EXIT = Object.freeze({
  succeeded: 0,
  /** The action ran and failed, or some agents of a fan-out did not succeed. */
  failed: 1,
  /** Bad flags, environment or arguments; nothing was sent. */
  usage: 2,
  /** The agent refused the command (not granted, unknown action, invalid args...). */
  rejected: 3,
  /** No result in time, the action timed out on the agent, or the command expired. */
  timedOut: 4,
  /** No broker session or auth-service answer, or the credentials were refused. */
  connection: 5,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
});

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'failed':
      return EXIT.failed;
    case 'invalid_arguments':
      return EXIT.usage;
    case 'rejected':
      return EXIT.rejected;
    case 'timed_out':
    case 'expired':
      return EXIT.timedOut;
    case 'not_connected':
    case 'not_authorised':
    case 'credential_unavailable':
      return EXIT.connection;
    case 'aborted':
      return EXIT.interrupted;
  }
}
