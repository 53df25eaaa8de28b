import { formatWithOptions } from 'node:util';
import type { Logger } from '../logger.js';

/** Longer string arguments are payloads or packet dumps, not diagnostics. */
const MAX_LOGGED_STRING_LENGTH = 128;

// MQTT.js logs whole packets with %o and every outgoing payload with %s; those carry the
// CONNECT password, app credentials and action output. Every argument that could be one is
// therefore reduced to a harmless summary before formatting.
function summarise(value: unknown): unknown {
  if (typeof value === 'string') {
    const looksLikePayload = value.startsWith('{') || value.startsWith('[');

    return looksLikePayload || value.length > MAX_LOGGED_STRING_LENGTH
      ? `<${value.length} chars>`
      : value;
  }

  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    return `<${value.byteLength} bytes>`;
  }

  if (value instanceof Error) {
    return value.message;
  }

  if (value !== null && typeof value === 'object') {
    const packet = value as Record<string, unknown>;

    if (typeof packet['cmd'] === 'string') {
      const { cmd, messageId, topic, qos, reasonCode, returnCode } = packet;

      return { cmd, messageId, topic, qos, reasonCode, returnCode };
    }

    return '<object>';
  }

  return value;
}

/** The `log` option for MQTT.js: its debug output, sanitised, to pino at debug level. */
export function mqttDebugLog(logger: Logger): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    if (!logger.isLevelEnabled('debug')) {
      return;
    }

    const [format, ...rest] = args;
    const text =
      typeof format === 'string'
        ? formatWithOptions({ depth: 2, breakLength: Infinity }, format, ...rest.map(summarise))
        : String(summarise(format));

    logger.debug({ mqtt: text }, 'mqtt.js');
  };
}
