import { z } from 'zod';
import { BROKER_BACKENDS } from '../metrics/broker-metrics.js';

/** `aud` of the JWT an app uses as its MQTT username through a jwt backend. */
export const BROKER_TOKEN_AUDIENCE = 'beckon-broker';

// Defaults, with their units. Where a number came from is said next to it.

/** A plug body is at most ~3.2 KiB (a 1,024-character topic, percent-encoded); 4x headroom. */
export const DEFAULT_MAX_BODY_BYTES = 16_384;
/** A bound on the (username, topic, acc) answers kept per snapshot; dropped on every change. */
export const DEFAULT_DECISION_CACHE_ENTRIES = 100_000;
/** How long a verified secret is trusted without re-hashing: 15 minutes. */
export const DEFAULT_CREDENTIAL_TTL_MS = 15 * 60_000;
export const DEFAULT_CREDENTIAL_CACHE_ENTRIES = 10_000;
/** Verified broker tokens are kept until their `exp`, at most this many. */
export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;
/** Failed logins one username may have in a burst before it is throttled. */
export const DEFAULT_USERNAME_BURST = 10;
/** One more failed login is allowed per username every 6 seconds (10 a minute). */
export const DEFAULT_USERNAME_REFILL_MS = 6_000;
/**
 * Failed logins from one source (on this listener: the broker) in a burst. It bounds the slow
 * hashes a flood can make us compute: 200 at once, then 50 a second.
 */
export const DEFAULT_SOURCE_BURST = 200;
export const DEFAULT_SOURCE_REFILL_MS = 20;
/**
 * Secret checks one source may have running at once; more wait their turn. A slow hash runs on
 * libuv's four-thread pool, so more than a few at once only queue there instead.
 */
export const DEFAULT_SOURCE_CONCURRENCY = 8;
/** Logins allowed to wait per source or username: a broker's whole reconnect storm fits. */
export const DEFAULT_MAX_WAITING_LOGINS = 10_000;
/** Bounds on the throttle tables; the oldest entry goes when one is full. */
export const DEFAULT_THROTTLE_USERNAMES = 10_000;
export const DEFAULT_THROTTLE_SOURCES = 1_000;

// What a URI option may be: a path the plugins append verbatim after host and port.
const Uri = z
  .string()
  .max(256)
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, {
    error: 'must be a path starting with "/" without query, fragment or spaces',
  });

// The broker key goes into `Authorization: Basic <key>` verbatim: visible ASCII, no spaces.
const BrokerKey = z
  .string()
  .min(16, { error: 'must be at least 16 characters (use a long random value)' })
  .max(1_024)
  .regex(/^[\x21-\x7e]+$/, { error: 'must be visible ASCII without spaces' });

const PositiveInt = z.number().int().positive();

/**
 * Options of the broker-check listener. Parse once at start-up; `createBrokerChecks` parses
 * again, so a plain object with only the keys to change is enough.
 */
export const BrokerChecksOptions = z
  .strictObject({
    /** mosquitto-auth-plug `auth_opt_http_{getuser,superuser,aclcheck}_uri`, both backends. */
    plug: z
      .strictObject({
        getuserUri: Uri.default('/auth'),
        superuserUri: Uri.default('/superuser'),
        aclcheckUri: Uri.default('/acl'),
      })
      .prefault({}),
    /** mosquitto-go-auth `auth_opt_{http,jwt}_{getuser,superuser,aclcheck}_uri`. */
    goAuth: z
      .strictObject({
        getuserUri: Uri.default('/go-auth/user'),
        superuserUri: Uri.default('/go-auth/superuser'),
        aclcheckUri: Uri.default('/go-auth/acl'),
        /** Must equal go-auth's `auth_opt_http_response_mode` / `auth_opt_jwt_response_mode`. */
        responseMode: z.enum(['status', 'json', 'text']).default('status'),
      })
      .prefault({}),
    /** Which plugin backends are answered; requests for any other get a 404. */
    backends: z
      .array(z.enum(BROKER_BACKENDS))
      .min(1)
      .default([...BROKER_BACKENDS]),
    /**
     * The plug's `auth_opt_http_basic_auth_key`. When set, http-backend requests must carry
     * exactly `Authorization: Basic <key>`; set it in production (docs/auth-service.md).
     */
    brokerKey: BrokerKey.optional(),
    /** `aud` a broker JWT must carry. */
    jwtAudience: z.string().min(1).max(256).default(BROKER_TOKEN_AUDIENCE),
    cache: z
      .strictObject({
        decisionEntries: PositiveInt.default(DEFAULT_DECISION_CACHE_ENTRIES),
        /** Milliseconds a verified secret is trusted without re-hashing. 0 turns it off. */
        credentialTtlMs: z.number().int().min(0).default(DEFAULT_CREDENTIAL_TTL_MS),
        credentialEntries: PositiveInt.default(DEFAULT_CREDENTIAL_CACHE_ENTRIES),
        tokenEntries: PositiveInt.default(DEFAULT_TOKEN_CACHE_ENTRIES),
      })
      .prefault({}),
    throttle: z
      .strictObject({
        usernameBurst: PositiveInt.default(DEFAULT_USERNAME_BURST),
        /** Milliseconds per failed login a username earns back. */
        usernameRefillMs: PositiveInt.default(DEFAULT_USERNAME_REFILL_MS),
        sourceBurst: PositiveInt.default(DEFAULT_SOURCE_BURST),
        /** Milliseconds per failed login a source address earns back. */
        sourceRefillMs: PositiveInt.default(DEFAULT_SOURCE_REFILL_MS),
        /** Secret checks running at once per source address; the rest queue. */
        sourceConcurrency: PositiveInt.default(DEFAULT_SOURCE_CONCURRENCY),
        /** Logins waiting per source or username beyond which a login is refused. */
        maxWaiting: PositiveInt.default(DEFAULT_MAX_WAITING_LOGINS),
        maxUsernames: PositiveInt.default(DEFAULT_THROTTLE_USERNAMES),
        maxSources: PositiveInt.default(DEFAULT_THROTTLE_SOURCES),
      })
      .prefault({}),
    /** Bytes; a longer body is answered 413 without being read. */
    maxBodyBytes: PositiveInt.max(1_048_576).default(DEFAULT_MAX_BODY_BYTES),
  })
  .refine(
    (options) => {
      const uris = [...Object.values(options.plug), ...urisOf(options.goAuth)];

      return new Set(uris).size === uris.length;
    },
    { error: 'the plug and go-auth URIs must all be different', path: ['goAuth'] },
  );

function urisOf(goAuth: { getuserUri: string; superuserUri: string; aclcheckUri: string }) {
  return [goAuth.getuserUri, goAuth.superuserUri, goAuth.aclcheckUri];
}

export type BrokerChecksOptions = z.infer<typeof BrokerChecksOptions>;
export type BrokerChecksOptionsInput = z.input<typeof BrokerChecksOptions>;
