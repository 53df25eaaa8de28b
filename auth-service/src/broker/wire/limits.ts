import { z } from 'zod';

/** The plug gives up on a request after 10 s; an answer later than that helps nobody. */
export const BROKER_REQUEST_TIMEOUT_MS = 10_000;
/** Headers come in one small packet; a slow trickle is not the broker. */
export const BROKER_HEADERS_TIMEOUT_MS = 5_000;
/** The plug opens a new connection per check; an idle kept-alive socket is closed soon. */
export const BROKER_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Room for a 16 KiB broker JWT in `Authorization` (Node's default is 16 KiB in total). */
export const BROKER_MAX_HEADER_BYTES = 32_768;

const PositiveInt = z.number().int().positive();

/**
 * Limits of the lean broker listener, in milliseconds and bytes. The defaults are the ones the
 * node:http broker server has always had; tests pass short timeouts.
 */
export const WireLimits = z.strictObject({
  /** From a request's first byte until its head is complete (then 408). */
  headersTimeoutMs: PositiveInt.default(BROKER_HEADERS_TIMEOUT_MS),
  /** From a request's first byte until its body is complete (then 408). */
  requestTimeoutMs: PositiveInt.default(BROKER_REQUEST_TIMEOUT_MS),
  /** A connection with nothing to read and nothing to answer is closed after this. */
  keepAliveTimeoutMs: PositiveInt.default(BROKER_KEEP_ALIVE_TIMEOUT_MS),
  /** Request line and headers, CRLFs included (then 431). */
  maxHeaderBytes: PositiveInt.default(BROKER_MAX_HEADER_BYTES),
});

export type WireLimits = z.infer<typeof WireLimits>;
export type WireLimitsInput = z.input<typeof WireLimits>;
