import { z } from 'zod';
import { BrokerChecksOptions } from '../broker/options.js';

/** Default ports: broker checks, admin API, public API. */
export const DEFAULT_BROKER_PORT = 8181;
export const DEFAULT_ADMIN_PORT = 8182;
export const DEFAULT_PUBLIC_PORT = 8183;

/** Ten minutes: long enough that renewals are rare, short enough that revocation bites soon. */
export const DEFAULT_CREDENTIAL_TTL_SECONDS = 600;
export const DEFAULT_BROKER_TOKEN_TTL_SECONDS = 600;
const MIN_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 86_400;

const Listener = (host: string, port: number) =>
  z
    .strictObject({
      host: z.string().min(1).max(255).default(host),
      /** 0 picks a free port (tests). */
      port: z.number().int().min(0).max(65_535).default(port),
    })
    .prefault({});

const Ttl = (seconds: number) =>
  z.number().int().min(MIN_TTL_SECONDS).max(MAX_TTL_SECONDS).default(seconds);

export const StoreConfig = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqlite'), path: z.string().min(1).max(4_096) }),
  z.strictObject({
    kind: z.literal('postgres'),
    url: z
      .string()
      .max(4_096)
      .regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' }),
  }),
]);

export const AuthServiceConfig = z.strictObject({
  store: StoreConfig.default({ kind: 'sqlite', path: 'beckon-auth.db' }),
  listeners: z
    .strictObject({
      broker: Listener('127.0.0.1', DEFAULT_BROKER_PORT),
      admin: Listener('127.0.0.1', DEFAULT_ADMIN_PORT),
      public: Listener('0.0.0.0', DEFAULT_PUBLIC_PORT),
    })
    .prefault({}),
  /** `iss` of every token the service signs, and the trust root's issuer. */
  issuer: z.string().min(1).max(256).default('beckon-auth'),
  /** Told to agents at enrollment, e.g. `mqtts://broker.example.com:8883`. */
  brokerUrl: z.url().max(1_024).optional(),
  credentials: z
    .strictObject({
      appCredentialTtlSeconds: Ttl(DEFAULT_CREDENTIAL_TTL_SECONDS),
      brokerTokenTtlSeconds: Ttl(DEFAULT_BROKER_TOKEN_TTL_SECONDS),
    })
    .prefault({}),
  /**
   * The public listener as client servers reach it, e.g. `https://auth.example.com`: served
   * install.sh has it filled in, so `curl .../install.sh | sudo sh -s -- --token T` needs no URL.
   */
  publicUrl: z
    .url({ protocol: /^https?$/ })
    .max(1_024)
    .optional(),
  /** Folder whose files the public listener serves as /install.sh and /agent/<file>. */
  staticDir: z.string().min(1).max(4_096).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  publicLimits: z
    .strictObject({
      /** Requests per source address: a burst, then this many per second. */
      burst: z.number().int().min(1).max(10_000).default(30),
      perSecond: z.number().min(0.1).max(10_000).default(5),
    })
    .prefault({}),
  loginThrottle: z
    .strictObject({
      /** Failed logins per source address, and per principal, within one window. */
      maxFailures: z.number().int().min(1).max(10_000).default(10),
      windowSeconds: z.number().int().min(1).max(3_600).default(60),
    })
    .prefault({}),
  /** The broker-check listener's URIs, broker key, caches and throttle (broker/options.ts). */
  brokerChecks: BrokerChecksOptions.prefault({}),
});

export type AuthServiceConfig = z.infer<typeof AuthServiceConfig>;
export type AuthServiceConfigInput = z.input<typeof AuthServiceConfig>;
