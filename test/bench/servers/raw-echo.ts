import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import { SIGNATURE_BYTES } from '../lib/raw-requester.js';

// The baseline agent: plain MQTT.js clients that answer every request by publishing its payload
// back, with nothing in between (no parsing, journal or runner). argv: broker URL, client count,
// topic prefix, and optionally an Ed25519 public key (base64 SPKI DER): then each request's
// signature (its last 64 bytes, over the rest) is verified first and a forgery gets no echo,
// the floor a signed command pays on the agent's side. Request topic `<prefix>/<n>/req`,
// reply topic `<prefix>/<n>/res`.

const Url = z.url();
const Count = z.coerce.number().int().min(1).max(10_000);
const Prefix = z.string().min(1);
const Args = z.union([
  z.tuple([Url, Count, Prefix]),
  z.tuple([Url, Count, Prefix, z.base64().min(1)]),
]);
const PROTOCOL_VERSION = 5;
/** Clients connecting at once: the broker's listen backlog is 100 (PERFORMANCE.md). */
const CONNECT_BATCH = 50;

function authentic(payload: Buffer, key: KeyObject | undefined): boolean {
  if (key === undefined) {
    return true;
  }

  const split = payload.length - SIGNATURE_BYTES;

  return split > 0 && verify(null, payload.subarray(0, split), key, payload.subarray(split));
}

function echoClient(
  url: string,
  prefix: string,
  index: number,
  key: KeyObject | undefined,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: `${prefix.replaceAll('/', '-')}-echo-${index}`,
      protocolVersion: PROTOCOL_VERSION,
      reconnectPeriod: 0,
    });

    client.once('connect', () => {
      // Nagle plus delayed ACKs costs 44 ms per exchange (PERFORMANCE.md), as for agents.
      if (client.stream instanceof Socket) {
        client.stream.setNoDelay(true);
      }

      client.subscribe(`${prefix}/${index}/req`, { qos: 1 }, (error) => {
        if (error === null) {
          resolve(client);
        } else {
          reject(error);
        }
      });
    });
    client.on('message', (_topic, payload) => {
      if (authentic(payload, key)) {
        client.publish(`${prefix}/${index}/res`, payload, { qos: 1 });
      }
    });
    client.once('error', reject);
  });
}

async function main(): Promise<void> {
  const [url, count, prefix, publicKey] = Args.parse(process.argv.slice(2));
  const key =
    publicKey === undefined
      ? undefined
      : createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
  const clients: MqttClient[] = [];

  for (let start = 0; start < count; start += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, count - start) }, (_, n) =>
      echoClient(url, prefix, start + n, key),
    );
    clients.push(...(await Promise.all(batch)));
  }

  process.once('SIGTERM', () => {
    void Promise.all(clients.map((client) => client.endAsync())).finally(() => process.exit(0));
  });
  process.send?.({ port: 0, clients: clients.length, rssBytes: process.memoryUsage().rss });
}

main().catch((error: unknown) => {
  process.stderr.write(`raw echo failed: ${String(error)}\n`);
  process.exitCode = 1;
});
