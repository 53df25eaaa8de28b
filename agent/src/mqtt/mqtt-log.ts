import { formatWithOptions } from 'node:util';
import type { Logger } from '../logger.js';

// MQTT.js logs whole packets with %o, and those carry the CONNECT password and command
// payloads (with app credentials). Every non-scalar argument is therefore reduced to a
// harmless summary before formatting.
function summarise(value: unknown): unknown {
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
