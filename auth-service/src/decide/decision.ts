import type { AclAccess } from '../directory/types.js';

/** What a broker check asks for; `readwrite` only comes from mosquitto-go-auth (acc 3). */
export type CheckAccess = AclAccess | 'readwrite';

/**
 * Why a check was decided the way it was. A closed set, so logs, metrics and
 * `beckon-auth explain` all speak the same words.
 */
export const DECISION_REASONS = {
  'invalid-username': 'the username is not a valid principal id, so nothing applies to it',
  'unknown-principal': 'no agent or app has this id',
  disabled: 'the principal is disabled',
  'login-allowed': 'the principal exists and is enabled',
  'bad-secret': 'the secret does not match',
  'empty-secret': 'no secret was given',
  'cached-secret': 'the same secret was verified a short while ago',
  throttled: 'too many failed logins for this username or source; try again later',
  'bad-token': 'the token does not verify against the trust root',
  superuser: 'superusers may do everything',
  'not-superuser': 'the principal is not a superuser',
  'invalid-topic': 'the topic or filter is malformed for this kind of access',
  'agent-own-commands': 'an agent reads and subscribes to its own commands topic',
  'agent-own-output': 'an agent publishes its own results, progress and status',
  'agent-replies-to-app': 'an agent publishes to the replies inbox of an app granted it',
  'app-commands-agent': 'an app publishes commands to an agent it is granted',
  'app-reads-agent': 'an app reads results, progress and status of an agent it is granted',
  'app-all-agents-filter': 'an app may subscribe to a channel of all agents; reads are checked',
  'app-own-replies': 'an app reads and subscribes to its own replies inbox',
  'rule-allow': 'an extra ACL rule allows it',
  'rule-deny': 'an extra ACL rule denies it',
  'no-permission': 'no role permission or rule allows it (deny by default)',
} as const;

export type DecisionReason = keyof typeof DECISION_REASONS;

/** The answer to one check, with what decided it. */
export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** The id of the extra ACL rule that decided, when one did. */
  readonly rule?: string;
}

function table(allowed: boolean): Readonly<Record<DecisionReason, Decision>> {
  const entries = Object.keys(DECISION_REASONS).map((reason) => [
    reason,
    Object.freeze({ allowed, reason: reason as DecisionReason }),
  ]);

  return Object.freeze(Object.fromEntries(entries) as Record<DecisionReason, Decision>);
}

// Shared frozen answers for every reason, so the hot path allocates no decision objects.
const ALLOWED = table(true);
const DENIED = table(false);

export function allow(reason: DecisionReason): Decision {
  return ALLOWED[reason];
}

export function deny(reason: DecisionReason): Decision {
  return DENIED[reason];
}

export function ruleDecision(allowed: boolean, ruleId: string): Decision {
  return Object.freeze({ allowed, reason: allowed ? 'rule-allow' : 'rule-deny', rule: ruleId });
}

/** One sentence for a reason, for `beckon-auth explain` and the docs. */
export function describeReason(reason: DecisionReason): string {
  return DECISION_REASONS[reason];
}
