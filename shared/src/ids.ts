import { z } from 'zod';
import { isRealDate } from './calendar-date.js';
import {
  MAX_ACTION_NAME_LENGTH,
  MAX_ARG_NAME_LENGTH,
  MAX_COMMAND_ID_LENGTH,
  MAX_ID_LENGTH,
} from './limits.js';

// A principal id is an MQTT username and a topic level. The character set leaves out the MQTT
// separators and wildcards (`/`, `+`, `#`), NUL, `%` (the `%u` substitution in ACL patterns),
// whitespace and anything outside ASCII, so an id can never widen a topic or a rule.
const PRINCIPAL_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;
const COMMAND_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ACTION_NAME = /^[a-z][a-z0-9_.-]*$/;
const ARG_NAME = /^[a-z][a-zA-Z0-9_]*$/;

/** Agent ids, app ids and group names. */
export const PrincipalId = z.string().min(1).max(MAX_ID_LENGTH).regex(PRINCIPAL_ID, {
  error: 'must start with a letter or digit and use only letters, digits, ".", "_", "@", "-"',
});

export const AgentId = PrincipalId;
export const AppId = PrincipalId;
export const GroupName = PrincipalId;

/** Chosen by the sender; a UUID or a ULID fits. Unique per sender for the replay window. */
export const CommandId = z
  .string()
  .min(8)
  .max(MAX_COMMAND_ID_LENGTH)
  .regex(COMMAND_ID, { error: 'must use only letters, digits, "_" and "-"' });

export const ActionName = z.string().min(1).max(MAX_ACTION_NAME_LENGTH).regex(ACTION_NAME, {
  error: 'must start with a lower-case letter and use only a-z, 0-9, "_", ".", "-"',
});

export const ArgName = z.string().min(1).max(MAX_ARG_NAME_LENGTH).regex(ARG_NAME, {
  error: 'must start with a lower-case letter and use only letters, digits, "_"',
});

export type PrincipalId = z.infer<typeof PrincipalId>;
export type AgentId = z.infer<typeof AgentId>;
export type AppId = z.infer<typeof AppId>;
export type CommandId = z.infer<typeof CommandId>;
export type ActionName = z.infer<typeof ActionName>;

/**
 * True when `value` is safe to use as an agent id, app id or group name: the same test as the
 * `PrincipalId` schema (a test keeps the two equal), without a schema parse. It runs in every
 * topic parse, several times per broker check.
 */
export function isPrincipalId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= MAX_ID_LENGTH &&
    PRINCIPAL_ID.test(value)
  );
}

/**
 * A timestamp on the wire: ISO 8601 with an explicit offset, and a real calendar date
 * (the format check alone lets "2026-02-30" through).
 */
export const Timestamp = z.iso.datetime({ offset: true }).refine((value) => isRealDate(value), {
  error: 'is not a valid date',
  params: { code: 'invalid_timestamp' },
});

export type Timestamp = z.infer<typeof Timestamp>;
