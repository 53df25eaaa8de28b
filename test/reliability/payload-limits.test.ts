import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BeckonClient } from '@beckon/client';
import { createAdminToken } from '@beckon/auth-service';
import type { EmbeddedBroker } from '@beckon/local';
import { agentTopics, MAX_MESSAGE_BYTES, MAX_OUTPUT_LENGTH } from '@beckon/shared';
import { startMosquitto } from '@beckon/test-support';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { startAuthedBroker } from '../harness/broker.js';
import { RawApp } from './support/raw-app.js';
import { recordAction, writeRecorder, type Recorder } from './support/recorder.js';

const BROKER_BODY_LIMIT_BYTES = 16_384;
const API_BODY_LIMIT_BYTES = 64 * 1_024;
/** What deploy/mosquitto/mosquitto.conf ships as max_packet_size. */
const SHIPPED_MAX_PACKET_BYTES = 540_672;

let auth: RunningAuth;
let broker: EmbeddedBroker;
let agent: RunningAgent;
let client: BeckonClient;
let raw: RawApp;
let recorder: Recorder;
let folder: string;
let adminToken: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-reliability-limits-'));
  recorder = await writeRecorder(folder);
  // Both streams filled with NUL bytes: each one becomes six bytes of JSON (\u0000).
  const flood = join(folder, 'flood.sh');
  await writeFile(
    flood,
    '#!/bin/sh\n/usr/bin/head -c 200000 /dev/zero\n/usr/bin/head -c 200000 /dev/zero >&2\n',
  );
  await chmod(flood, 0o755);

  auth = await startAuth();
  broker = await startAuthedBroker(auth);
  agent = await startTestAgent(auth, 'limits-01', {
    brokerUrl: broker.url,
    actions: {
      ...recordAction(recorder),
      flood: { argv: [flood], maxOutputBytes: 1_048_576 },
    },
  });
  const app = await addApp(auth, 'limiter', [{ agents: ['limits-01'] }]);
  client = await connectApp(auth, broker.url, app);
  // Its own app: an app's first credential pins its key, and the client pinned another.
  raw = await RawApp.grantedTo(auth, broker.url, 'limiter-raw', 'limits-01');
  adminToken = (await createAdminToken(auth.service.store, 'reliability', 'limits')).token;
});

afterAll(async () => {
  await raw.close();
  await client.close();
  await agent.stop();
  await broker.close();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

/** Sends a body of `size` bytes, declared or chunked, and returns the status. */
function post(
  url: string,
  size: number,
  headers: Record<string, string>,
  chunked: boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = Buffer.alloc(size, 'a');
    const req = request(url, {
      method: 'POST',
      headers: chunked ? headers : { ...headers, 'content-length': String(size) },
    });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    // The server may answer and close before it has read everything we write.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') {
        reject(error);
      }
    });
    req.end(body);
  });
}

describe('MQTT messages to the agent', () => {
  it('refuses a command larger than the message limit as malformed, running nothing', async () => {
    const command = await raw.sign(raw.command('limits-01', 'record', { id: 'oversized' }));
    const padded = JSON.stringify({ ...command, padding: 'x'.repeat(MAX_MESSAGE_BYTES) });
    await raw.publish('limits-01', padded);
    const result = await raw.waitForResult(
      (candidate) => candidate.error?.message.includes('the limit is') === true,
    );

    expect(result).toMatchObject({ outcome: 'rejected', error: { code: 'malformed' } });
    expect(result.commandId).toBeNull();
    expect(await recorder.lines()).toEqual([]);
  });

  it('is bounded by the shipped Mosquitto max_packet_size before it reaches anyone', async () => {
    const mosquitto = await startMosquitto({
      extraConfig: [`max_packet_size ${SHIPPED_MAX_PACKET_BYTES}`],
    });

    try {
      const listener = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
      const publisher = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
      const received: number[] = [];
      listener.on('message', (_topic, payload) => received.push(payload.byteLength));
      await listener.subscribeAsync('beckon/v1/agents/+/commands', { qos: 1 });
      const closed = new Promise<void>((resolve) => publisher.once('close', () => resolve()));

      publisher.publish(agentTopics('limits-01').commands, Buffer.alloc(SHIPPED_MAX_PACKET_BYTES));
      await closed;
      // A message under the limit still flows: the listener was not the one cut off.
      const small = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
      // Listen first: the delivery can overtake the publisher's PUBACK.
      const delivered = new Promise<void>((resolve) => listener.once('message', () => resolve()));
      await small.publishAsync(agentTopics('limits-01').commands, 'small', { qos: 1 });
      await delivered;

      expect(received).toEqual([5]);
      await Promise.all([listener.endAsync(), small.endAsync(), publisher.endAsync(true)]);
    } finally {
      await mosquitto.dispose();
    }
  });
});

describe('action output', () => {
  it('keeps a result within the message limit even when every byte needs escaping', async () => {
    const result = await client.send('limits-01', 'flood', {}, { timeout: 30_000 });
    const size = Buffer.byteLength(JSON.stringify(result));

    expect(result.outcome).toBe('succeeded');
    expect(result.output.truncated).toBe(true);
    expect(result.output.stdout.length).toBeLessThanOrEqual(MAX_OUTPUT_LENGTH);
    expect(size).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });
});

describe('HTTP bodies', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const json = { 'content-type': 'application/json' };

  it('the broker listener refuses more than 16 KiB with 413, declared or chunked', async () => {
    const url = `http://127.0.0.1:${auth.service.ports.broker}/auth`;

    expect(await post(url, BROKER_BODY_LIMIT_BYTES + 1, form, false)).toBe(413);
    expect(await post(url, BROKER_BODY_LIMIT_BYTES + 1, form, true)).toBe(413);
  });

  it('the admin listener refuses more than 64 KiB with 413, declared or chunked', async () => {
    const url = `${auth.adminUrl}/v1/agents`;
    const headers = { ...json, authorization: `Bearer ${adminToken}` };

    expect(await post(url, API_BODY_LIMIT_BYTES + 1, headers, false)).toBe(413);
    expect(await post(url, API_BODY_LIMIT_BYTES + 1, headers, true)).toBe(413);
  });

  it('the public listener refuses more than 64 KiB with 413, declared or chunked', async () => {
    const url = `${auth.publicUrl}/v1/enroll`;

    expect(await post(url, API_BODY_LIMIT_BYTES + 1, json, false)).toBe(413);
    expect(await post(url, API_BODY_LIMIT_BYTES + 1, json, true)).toBe(413);
  });
});
