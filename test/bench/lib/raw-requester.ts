import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

// The baseline central side: one MQTT.js client that publishes a request (QoS 1) and waits for
// the echo, correlated by an id at the front of the payload. No signing, no schemas.

const PROTOCOL_VERSION = 5;
const ID_LENGTH = 36;
/** About the size of a signed Beckon command (credential JWT plus signature), in bytes. */
export const RAW_PAYLOAD_BYTES = 1_536;

export class RawRequester {
  readonly #client: MqttClient;
  readonly #prefix: string;
  readonly #waiting = new Map<string, () => void>();

  private constructor(client: MqttClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
    client.on('message', (_topic, payload) => {
      const id = payload.subarray(0, ID_LENGTH).toString('latin1');
      const resolve = this.#waiting.get(id);

      this.#waiting.delete(id);
      resolve?.();
    });
  }

  static async connect(url: string, prefix: string): Promise<RawRequester> {
    const client = await mqtt.connectAsync(url, {
      clientId: `${prefix.replaceAll('/', '-')}-requester`,
      protocolVersion: PROTOCOL_VERSION,
      reconnectPeriod: 0,
    });

    if (client.stream instanceof Socket) {
      client.stream.setNoDelay(true);
    }

    await client.subscribeAsync(`${prefix}/+/res`, { qos: 1 });

    return new RawRequester(client, prefix);
  }

  /** Publishes one request to echo client `index` and resolves when its echo arrives. */
  request(index: number): Promise<void> {
    const id = randomUUID();
    const payload = Buffer.alloc(RAW_PAYLOAD_BYTES, 'x');
    payload.write(id, 'latin1');

    const answered = new Promise<void>((resolve) => this.#waiting.set(id, resolve));
    this.#client.publish(`${this.#prefix}/${index}/req`, payload, { qos: 1 });

    return answered;
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}
