import {
  ActionName,
  ArgName,
  ArgSpecs,
  MAX_CATALOGUE_ACTIONS,
  MAX_DESCRIPTION_LENGTH,
  PrincipalId,
} from '@beckon/shared';
import { z } from 'zod';

// The agent's configuration file, as the client's administrator writes it. Everything an action
// may do is declared here; nothing that arrives over MQTT can add to it.

const DAY_SECONDS = 86_400;

/** Seven days: commands sent while an agent is offline for a long weekend still arrive. */
export const DEFAULT_SESSION_EXPIRY_SECONDS = 7 * DAY_SECONDS;
export const DEFAULT_KEEPALIVE_SECONDS = 30;
export const DEFAULT_ACTION_TIMEOUT_SECONDS = 60;
/** Per stream; results carry at most shared's MAX_OUTPUT_LENGTH characters anyway. */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1_024;
export const DEFAULT_MAX_CONCURRENT = 4;
export const DEFAULT_MAX_QUEUED = 64;
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 20;
/** Between SIGTERM and SIGKILL of an action's process group. */
export const DEFAULT_KILL_GRACE_SECONDS = 5;

const AbsolutePath = z
  .string()
  .min(1)
  .max(4_096)
  .refine((path) => path.startsWith('/') && !path.includes('\0'), {
    error: 'must be an absolute path',
  });

const BrokerUrl = z
  .string()
  .max(1_024)
  .refine((value) => /^mqtts?:\/\/[^/\s]+(:\d+)?\/?$/.test(value), {
    error: 'must be mqtt://host[:port] or mqtts://host[:port]',
  });

export const BrokerConfig = z.strictObject({
  url: BrokerUrl,
  /** 5 (MQTT 5, default) or 4 (MQTT 3.1.1, for brokers such as Aedes that lack 5). */
  protocolVersion: z.union([z.literal(5), z.literal(4)]).default(5),
  /** PEM file with the CA that signed the broker's certificate (mqtts only). */
  caFile: AbsolutePath.optional(),
  /** Name to verify the broker's certificate against, when it differs from the URL's host. */
  serverName: z.string().min(1).max(255).optional(),
  keepaliveSeconds: z.number().int().min(5).max(3_600).default(DEFAULT_KEEPALIVE_SECONDS),
  sessionExpirySeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * DAY_SECONDS)
    .default(DEFAULT_SESSION_EXPIRY_SECONDS),
});

// The descriptions below are written into the JSON Schema, where editors show them on hover.

/**
 * One element of an action's argv: a literal, or the value of one typed argument. An argument
 * always fills a whole element: it can never be split, joined or read by a shell.
 */
export const ArgvElement = z.union([
  z.string().max(4_096).describe('A literal element, passed exactly as written.'),
  z
    .strictObject({
      arg: ArgName.describe(
        'The argument whose value fills this whole element; left out when optional and absent.',
      ),
      flag: z
        .string()
        .min(1)
        .max(256)
        .optional()
        .describe('For a boolean argument: this literal when true, nothing when false.'),
    })
    .describe('An element filled from one typed argument.'),
]);

/** ping and describe share the published catalogue with the configured actions. */
const BUILT_IN_COUNT = 2;

// A user or group as /etc/passwd names it (the portable POSIX set, plus a trailing `$` for
// Samba machine accounts), or a numeric id.
const AccountName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^(?:[A-Za-z_][A-Za-z0-9_.-]*\$?|\d{1,10})$/, {
    error: 'must be a user or group name, or a numeric id',
  });

export const ActionConfig = z
  .strictObject({
    description: z
      .string()
      .max(MAX_DESCRIPTION_LENGTH)
      .default('')
      .describe('Shown to central apps in the action catalogue.'),
    argv: z
      .array(ArgvElement)
      .min(1)
      .max(256)
      .describe(
        'The program (a literal absolute path) and its arguments. No shell, ever. A value ' +
          'starting with "-" is accepted only after a literal "--".',
      ),
    args: ArgSpecs.default({}).describe(
      'The typed arguments a command may pass: string (pattern, enum, maxLength), integer ' +
        '(min, max) or boolean. Required unless "required: false".',
    ),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4_096))
      .default({})
      .describe(
        'The whole environment of the program; nothing is inherited from the agent. PATH ' +
          'defaults to /usr/sbin:/usr/bin:/sbin:/bin when not set here.',
      ),
    cwd: AbsolutePath.default('/').describe('Working directory of the program.'),
    user: AccountName.optional().describe(
      'Run as this user (name or uid); its primary group unless "group" is set. Needs root.',
    ),
    group: AccountName.optional().describe('Run with this group (name or gid). Needs root.'),
    timeoutSeconds: z
      .number()
      .positive()
      .max(DAY_SECONDS)
      .default(DEFAULT_ACTION_TIMEOUT_SECONDS)
      .describe(
        'After this the process group gets SIGTERM, then SIGKILL after limits.killGraceSeconds.',
      ),
    maxOutputBytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1_024 * 1_024)
      .default(DEFAULT_MAX_OUTPUT_BYTES)
      .describe(
        'Bytes of stdout and of stderr kept (each); the rest is drained and the result is ' +
          'marked truncated. Results carry at most 65,536 characters per stream.',
      ),
    maxConcurrent: z
      .number()
      .int()
      .min(1)
      .max(1_000)
      .optional()
      .describe('How many runs of this action may overlap; 1 serialises it.'),
  })
  .describe('One allow-listed action.');

export const AgentConfig = z.strictObject({
  /** Normally taken from the credentials file; set only to cross-check it. */
  agentId: PrincipalId.optional(),
  broker: BrokerConfig,
  /** Written by `beckon-agent enroll`, mode 0600; re-read on every reconnect. */
  credentialsFile: AbsolutePath.default('/etc/beckon/credentials.json'),
  /** Replay store and in-flight journal. */
  stateDir: AbsolutePath.default('/var/lib/beckon-agent'),
  /** The auth-service's public listener, for refreshing the trust root and groups. */
  authUrl: z.url({ protocol: /^https?$/ }).optional(),
  security: z
    .strictObject({
      /** Turn off only for a local test setup; the agent warns at every start. */
      requireSignatures: z.boolean().default(true),
    })
    .default({ requireSignatures: true }),
  limits: z
    .strictObject({
      maxConcurrent: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_CONCURRENT),
      maxQueued: z.number().int().min(0).max(100_000).default(DEFAULT_MAX_QUEUED),
      shutdownGraceSeconds: z.number().min(0).max(3_600).default(DEFAULT_SHUTDOWN_GRACE_SECONDS),
      killGraceSeconds: z.number().min(0).max(600).default(DEFAULT_KILL_GRACE_SECONDS),
    })
    .default({
      maxConcurrent: DEFAULT_MAX_CONCURRENT,
      maxQueued: DEFAULT_MAX_QUEUED,
      shutdownGraceSeconds: DEFAULT_SHUTDOWN_GRACE_SECONDS,
      killGraceSeconds: DEFAULT_KILL_GRACE_SECONDS,
    }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  actions: z
    .record(ActionName, ActionConfig)
    .describe('The allow-listed actions, by name; ping and describe are built in.')
    .refine((actions) => Object.keys(actions).length <= MAX_CATALOGUE_ACTIONS - BUILT_IN_COUNT, {
      error: `declares more than ${MAX_CATALOGUE_ACTIONS - BUILT_IN_COUNT} actions`,
    })
    .default({}),
});

export type BrokerConfig = z.infer<typeof BrokerConfig>;
export type ArgvElement = z.infer<typeof ArgvElement>;
export type ActionConfig = z.infer<typeof ActionConfig>;
export type AgentConfig = z.infer<typeof AgentConfig>;
