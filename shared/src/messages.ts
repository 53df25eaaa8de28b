import { z } from 'zod';
import { ActionDescriptor, Args } from './catalogue.js';
import { ActionName, AgentId, AppId, CommandId, Timestamp } from './ids.js';
import {
  MAX_CATALOGUE_ACTIONS,
  MAX_CORRELATION_DATA_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_OUTPUT_LENGTH,
  MAX_PROGRESS_CHUNK_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_TOPIC_LENGTH,
} from './limits.js';

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const DETACHED_JWS = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/;

/**
 * The second gate of the security model (docs/architecture.md): who sent a command, proven
 * to the agent without trusting the broker.
 */
export const SignatureEnvelope = z.strictObject({
  /** The app's certified credential: a JWT from the auth-service's trust root. */
  credential: z
    .string()
    .max(MAX_TOKEN_LENGTH)
    .regex(COMPACT_JWT, { error: 'must be a compact JWT (header.payload.signature)' }),
  /** A detached JWS (header..signature) by the app's key over the message without `auth`. */
  signature: z
    .string()
    .max(MAX_TOKEN_LENGTH)
    .regex(DETACHED_JWS, { error: 'must be a detached compact JWS (header..signature)' }),
});

export type SignatureEnvelope = z.infer<typeof SignatureEnvelope>;

const CorrelationData = z.string().max(MAX_CORRELATION_DATA_LENGTH);

const ReplyTo = z
  .string()
  .min(1)
  .max(MAX_TOPIC_LENGTH)
  .refine((topic) => !/[+#]/.test(topic) && !topic.includes('\0'), {
    error: 'must be a concrete topic without wildcards',
    params: { code: 'invalid_format' },
  });

function expiresAfterIssue(message: { issuedAt: string; expiresAt: string }): boolean {
  return Date.parse(message.expiresAt) > Date.parse(message.issuedAt);
}

const EXPIRY_ORDER = {
  error: 'must be later than issuedAt',
  path: ['expiresAt'],
  params: { code: 'invalid_timestamp' },
};

/** Sent by a central app to one agent: run this allow-listed action with these arguments. */
export const Command = z
  .strictObject({
    kind: z.literal('command'),
    id: CommandId,
    agentId: AgentId,
    action: ActionName,
    args: Args,
    /** The app that sent it; must equal the subject of the credential. */
    issuer: AppId,
    issuedAt: Timestamp,
    /** After this instant the agent answers `expired` instead of running anything. */
    expiresAt: Timestamp,
    /** Ask the agent to stream output as progress messages while the action runs. */
    progress: z.boolean().optional(),
    /** Where to publish the result as well as the agent's results topic. */
    replyTo: ReplyTo.optional(),
    /** Echoed untouched in the result, for the sender's own bookkeeping. */
    correlationData: CorrelationData.optional(),
    /** Absent only where the agent's operator has turned signature checks off. */
    auth: SignatureEnvelope.optional(),
  })
  .refine(expiresAfterIssue, EXPIRY_ORDER);

/** Sent by a central app to one agent: stop the running (or queued) command with this id. */
export const Cancel = z
  .strictObject({
    kind: z.literal('cancel'),
    id: CommandId,
    agentId: AgentId,
    commandId: CommandId,
    issuer: AppId,
    issuedAt: Timestamp,
    expiresAt: Timestamp,
    auth: SignatureEnvelope.optional(),
  })
  .refine(expiresAfterIssue, EXPIRY_ORDER);

export type Command = z.infer<typeof Command>;
export type Cancel = z.infer<typeof Cancel>;

/** How a command ended, from the agent's point of view. */
export const OUTCOMES = [
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'timed-out',
  'interrupted',
  'cancelled',
] as const;

export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/**
 * Why a command did not succeed. A closed set so that central apps can branch on it; the
 * message beside it is for humans.
 */
export const RESULT_ERROR_CODES = [
  // the payload failed the shared schemas
  'malformed',
  // for a different agent than the one that received it
  'wrong_agent',
  // expiresAt had passed when the agent received it
  'expired',
  // a command id the agent has already seen
  'replayed',
  // no such action in the agent's allow-list
  'unknown_action',
  // arguments failed the action's declared types
  'invalid_args',
  // no signature envelope while signatures are required
  'unsigned',
  // the credential was not issued by a trusted root, or is expired
  'untrusted_credential',
  // the signature does not verify against the certified key
  'bad_signature',
  // the credential's grants do not cover this agent and action
  'not_granted',
  // the agent is shutting down or its queue is full
  'unavailable',
  // the program could not be started
  'spawn_failed',
  // the program exited with a non-zero code or a signal
  'non_zero_exit',
  // the action ran past its timeout
  'timed_out',
  // a cancel command stopped it
  'cancelled',
  // the agent stopped or crashed while it ran
  'interrupted',
  // a cancel named a command this agent does not know
  'unknown_command',
  // a fault inside the agent
  'internal',
] as const;

export const ResultErrorCode = z.enum(RESULT_ERROR_CODES);
export type ResultErrorCode = z.infer<typeof ResultErrorCode>;

export const ResultError = z.strictObject({
  code: ResultErrorCode,
  message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
});

export type ResultError = z.infer<typeof ResultError>;

const OutputText = z.string().max(MAX_OUTPUT_LENGTH);

export const Output = z.strictObject({
  stdout: OutputText,
  stderr: OutputText,
  /** True when either stream was cut at the action's output limit. */
  truncated: z.boolean(),
});

export type Output = z.infer<typeof Output>;

export const Timings = z.strictObject({
  receivedAt: Timestamp,
  startedAt: Timestamp.optional(),
  finishedAt: Timestamp,
  /** Wall time of the action itself; absent when nothing ran. */
  durationMs: z.number().int().nonnegative().optional(),
});

export type Timings = z.infer<typeof Timings>;

/** Sent by an agent, exactly once per command it received (or per unparseable message). */
export const Result = z.strictObject({
  kind: z.literal('result'),
  /** Null only when the command was so malformed that it carried no usable id. */
  commandId: CommandId.nullable(),
  agentId: AgentId,
  action: ActionName.optional(),
  issuer: AppId.optional(),
  outcome: Outcome,
  exitCode: z.number().int().nullable(),
  /** The signal that ended the program, e.g. "SIGKILL". */
  signal: z.string().max(32).nullable().optional(),
  output: Output,
  timings: Timings,
  error: ResultError.optional(),
  correlationData: CorrelationData.optional(),
});

export type Result = z.infer<typeof Result>;

/** Sent by an agent while an action runs, when the command asked for progress. */
export const Progress = z.strictObject({
  kind: z.literal('progress'),
  commandId: CommandId,
  agentId: AgentId,
  /** Starts at 0 and grows by one per chunk, so a receiver can order and spot gaps. */
  seq: z.number().int().nonnegative(),
  stream: z.enum(['stdout', 'stderr']),
  data: z.string().max(MAX_PROGRESS_CHUNK_LENGTH),
  at: Timestamp,
});

export type Progress = z.infer<typeof Progress>;

/** Facts about the agent's host that are safe to publish to every granted app. */
export const HostFacts = z.strictObject({
  hostname: z.string().max(255),
  platform: z.string().max(32),
  arch: z.string().max(32),
  release: z.string().max(128),
  node: z.string().max(32),
});

export type HostFacts = z.infer<typeof HostFacts>;

/**
 * Sent by an agent, retained: online when it connects, offline on clean shutdown, and offline
 * as its will when the broker loses it.
 */
export const Status = z.strictObject({
  kind: z.literal('status'),
  agentId: AgentId,
  state: z.enum(['online', 'offline']),
  version: z.string().min(1).max(64),
  startedAt: Timestamp,
  /** When this status was published (for the will: when the agent connected). */
  at: Timestamp,
  host: HostFacts.optional(),
  catalogue: z.array(ActionDescriptor).max(MAX_CATALOGUE_ACTIONS),
  /** Why the agent went offline, when it knows. */
  reason: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
});

export type Status = z.infer<typeof Status>;

/** Anything a Beckon v1 topic may carry, told apart by `kind`. */
export const Message = z.discriminatedUnion('kind', [Command, Cancel, Result, Progress, Status]);

export type Message = z.infer<typeof Message>;
export type MessageKind = Message['kind'];

/** What an agent accepts on its commands topic. */
export const Inbound = z.discriminatedUnion('kind', [Command, Cancel]);
export type Inbound = z.infer<typeof Inbound>;

/** The fields of a command or cancel that its signature covers: everything but `auth`. */
export type Unsigned<T extends { auth?: unknown }> = Omit<T, 'auth'>;
