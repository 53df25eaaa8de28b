import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

// The baseline central side: one MQTT.js client that publishes a request (QoS 1) and waits for
// the echo, correlated by an id at the front of the payload. No schemas; signed only when given
// a key, as the floor any signed protocol pays (one Ed25519 signature per request).

const PROTOCOL_VERSION = 5;
const ID_LENGTH = 36;
/** About the size of a signed Beckon command (credential JWT plus signature), in bytes. */
export const RAW_PAYLOAD_BYTES = 1_536;
/** An Ed25519 signature; a signed request carries it in its last bytes, over the rest. */
export const SIGNATURE_BYTES = 64;

/** A signed echo's key pair: the requester's private key, and the public one as raw-echo's argv. */
export function echoSigningKeys(): {
  readonly privateKey: KeyObject;
  readonly publicKeyArg: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  return {
    privateKey,
    publicKeyArg: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

export class RawRequester {
  readonly #client: MqttClient;
  readonly #prefix: string;
  readonly #signingKey: KeyObject | undefined;
  readonly #waiting = new Map<string, () => void>();

  private constructor(client: MqttClient, prefix: string, signingKey: KeyObject | undefined) {
    this.#client = client;
    this.#prefix = prefix;
    this.#signingKey = signingKey;
    client.on('message', (_topic, payload) => {
      const id = payload.subarray(0, ID_LENGTH).toString('latin1');
      const resolve = this.#waiting.get(id);

      this.#waiting.delete(id);
      resolve?.();
    });
  }

  static async connect(url: string, prefix: string, signingKey?: KeyObject): Promise<RawRequester> {
    const client = await mqtt.connectAsync(url, {
      clientId: `${prefix.replaceAll('/', '-')}-requester`,
      protocolVersion: PROTOCOL_VERSION,
      reconnectPeriod: 0,
    });

    if (client.stream instanceof Socket) {
      client.stream.setNoDelay(true);
    }

    await client.subscribeAsync(`${prefix}/+/res`, { qos: 1 });

    return new RawRequester(client, prefix, signingKey);
  }

  /** Publishes one request to echo client `index` and resolves when its echo arrives. */
  request(index: number): Promise<void> {
    const id = randomUUID();
    const payload = Buffer.alloc(RAW_PAYLOAD_BYTES, 'x');
    payload.write(id, 'latin1');

    if (this.#signingKey !== undefined) {
      const signed = payload.subarray(0, RAW_PAYLOAD_BYTES - SIGNATURE_BYTES);
      sign(null, signed, this.#signingKey).copy(payload, signed.length);
    }

    const answered = new Promise<void>((resolve) => this.#waiting.set(id, resolve));
    this.#client.publish(`${this.#prefix}/${index}/req`, payload, { qos: 1 });

    return answered;
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}
