import { formatWithOptions } from 'node:util';
import type { Logger } from 'pino';

const PACKET_FIELDS = ['cmd', 'messageId', 'topic', 'qos', 'retain', 'dup', 'reasonCode'] as const;

// MQTT.js prints whole packets and options, which hold the password, the broker token and the
// signed credential. Only a packet's header fields and plain numbers or short strings pass.
function summarise(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') {
    return secrets.some((secret) => secret !== '' && value.includes(secret)) ? '[redacted]' : value;
  }

  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return value;
  }

  if (value instanceof Error) {
    return value.message;
  }

  if (typeof value === 'object' && 'cmd' in value) {
    const packet = value as Record<string, unknown>;

    return Object.fromEntries(
      PACKET_FIELDS.filter((field) => packet[field] !== undefined).map((field) => [
        field,
        packet[field],
      ]),
    );
  }

  return `[${typeof value}]`;
}

/**
 * An MQTT.js `log` option that writes its chatter to pino at debug, with secrets removed.
 * `secrets` is read at each call, so a renewed token is redacted as well.
 */
export function mqttLog(
  logger: Logger,
  secrets: () => readonly string[],
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    if (!logger.isLevelEnabled('debug')) {
      return;
    }

    const known = secrets();
    const [format, ...rest] = args.map((arg) => summarise(arg, known));
    logger.debug(
      { mqttjs: formatWithOptions({ depth: 2, breakLength: Infinity }, format, ...rest) },
      'mqtt.js',
    );
  };
}
