import { AppId, describeIssues, safeParse } from '@beckon/shared';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DEFAULT_RECONNECT_SCHEDULE, type ReconnectSchedule } from './backoff.js';
import { invalidArgument } from './errors.js';

/** How long connect() keeps trying before it gives up with not_connected. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const MAX_DURATION_MS = 24 * 60 * 60 * 1_000;

const BrokerUrl = z
  .string()
  .max(1_024)
  .refine((value) => /^mqtts?:\/\/[^/]+/.test(value), {
    error: 'must be an mqtt:// or mqtts:// URL',
  });

const HttpUrl = z
  .string()
  .max(1_024)
  .refine((value) => /^https?:\/\/[^/]+/.test(value), {
    error: 'must be an http:// or https:// URL',
  });

const DurationMs = z.number().int().positive().max(MAX_DURATION_MS);

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Logger).child === 'function' &&
  typeof (value as Logger).debug === 'function';

const ConnectOptionsSchema = z
  .strictObject({
    url: BrokerUrl,
    appId: AppId,
    /** The app's secret: MQTT password, and Basic auth at the auth-service. */
    secret: z.string().min(1).max(1_024).optional(),
    /** `secret` logs in with id + secret; `token` with a broker JWT from the auth-service. */
    brokerLogin: z.enum(['secret', 'token']).optional(),
    /** The auth-service admin listener (credentials, broker tokens, group members). */
    authUrl: HttpUrl.optional(),
    /** Private JWK object, KeyObject or CryptoKey. */
    privateKey: z.unknown().optional(),
    privateKeyFile: z.string().min(1).optional(),
    /** Send commands without a signature: only for agents whose operator turned checks off. */
    unsigned: z.boolean().optional(),
    ca: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
    caFile: z.string().min(1).optional(),
    servername: z.string().min(1).max(255).optional(),
    mqttVersion: z.enum(['3.1.1', '5']).optional(),
    clientId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._-]+$/, { error: 'must use only letters, digits, ".", "_", "-"' })
      .optional(),
    logger: z.custom<Logger>(isLogger, { error: 'must be a pino logger' }).optional(),
    connectTimeout: DurationMs.optional(),
    reconnect: z
      .strictObject({
        firstDelayMaxMs: z.number().int().nonnegative().max(MAX_DURATION_MS).optional(),
        initialDelayMs: DurationMs.optional(),
        maxDelayMs: DurationMs.optional(),
        notAuthorisedDelayMs: DurationMs.optional(),
      })
      .optional(),
    signal: z.instanceof(AbortSignal).optional(),
  })
  .superRefine((options, context) => {
    const need = (field: string, why: string): void => {
      context.addIssue({ code: 'custom', path: [field], message: `is required ${why}` });
    };

    if (options.secret === undefined) {
      need('secret', 'to log in to the broker and the auth-service');
    }

    if (options.brokerLogin === 'token' && options.authUrl === undefined) {
      need('authUrl', 'to obtain broker tokens');
    }

    if (options.unsigned !== true) {
      if (options.authUrl === undefined) {
        need('authUrl', 'to obtain the credential that signed commands carry (or set unsigned)');
      }

      if (options.privateKey === undefined && options.privateKeyFile === undefined) {
        need('privateKey', 'to sign commands (or privateKeyFile, or set unsigned)');
      }
    }
  });

export type ConnectOptions = z.input<typeof ConnectOptionsSchema>;

export interface ResolvedConnectOptions {
  readonly url: string;
  readonly appId: string;
  readonly secret: string;
  readonly brokerLogin: 'secret' | 'token';
  readonly authUrl: string | undefined;
  readonly privateKey: unknown;
  readonly privateKeyFile: string | undefined;
  readonly unsigned: boolean;
  readonly ca: string | Buffer | undefined;
  readonly caFile: string | undefined;
  readonly servername: string | undefined;
  readonly mqttVersion: 4 | 5;
  readonly clientId: string | undefined;
  readonly logger: Logger | undefined;
  readonly connectTimeoutMs: number;
  readonly schedule: ReconnectSchedule;
  readonly signal: AbortSignal | undefined;
}

/** Validates connect()'s options once, names the offending field, and freezes the result. */
export function resolveConnectOptions(input: unknown): ResolvedConnectOptions {
  if (input === null || typeof input !== 'object') {
    throw invalidArgument('options', 'must be an object');
  }

  const parsed = safeParse(ConnectOptionsSchema, input);

  if (!parsed.ok) {
    const [first, ...rest] = parsed.issues;
    const argument = first === undefined || first.path === '' ? 'options' : `options.${first.path}`;
    const more = rest.length === 0 ? '' : ` (also: ${describeIssues(rest)})`;

    throw invalidArgument(argument, `${first?.message ?? 'is invalid'}${more}`);
  }

  const options = parsed.value;

  return Object.freeze({
    url: options.url,
    appId: options.appId,
    secret: options.secret ?? '',
    brokerLogin: options.brokerLogin ?? 'secret',
    authUrl: options.authUrl,
    privateKey: options.privateKey,
    privateKeyFile: options.privateKeyFile,
    unsigned: options.unsigned ?? false,
    ca: options.ca,
    caFile: options.caFile,
    servername: options.servername,
    mqttVersion: options.mqttVersion === '3.1.1' ? 4 : 5,
    clientId: options.clientId,
    logger: options.logger,
    connectTimeoutMs: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    schedule: Object.freeze({ ...DEFAULT_RECONNECT_SCHEDULE, ...definedOnly(options.reconnect) }),
    signal: options.signal,
  });
}

function definedOnly(value: object | undefined): Partial<ReconnectSchedule> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, item]) => item !== undefined));
}
