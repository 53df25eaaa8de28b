/**
 * The abort reason that tells the runner the agent is shutting down rather than a cancel
 * command arriving: `controller.abort(new ShutdownReason())`. A run aborted with it ends as
 * `interrupted`; any other reason ends it as `cancelled`.
 */
export class ShutdownReason extends Error {
  override readonly name = 'ShutdownReason';

  constructor(message = 'the agent is shutting down') {
    super(message);
  }
}

export function isShutdownReason(reason: unknown): reason is ShutdownReason {
  return reason instanceof ShutdownReason;
}
