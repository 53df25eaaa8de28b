import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentTopics } from '@beckon/shared';
import {
  authPluginConfig,
  buildAuthPlugin,
  canConnect,
  startMosquitto,
  type AuthPluginMode,
  type RunningMosquitto,
} from '@beckon/test-support';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wireBytes, type CapturedRequest } from '../../auth-service/test/helpers/raw-http.js';
import { enrollAgent, type EnrolledAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// Real Mosquitto with Beckon's test auth plugin (test/support/mosquitto-auth/) in front of the
// real auth-service: the broker asks every question on its only thread, as deployments with
// mosquitto-auth-plug or mosquitto-go-auth do. A recording server pins what the plugin puts on
// the wire against the requests captured from the real plug.

const CAPTURES = new URL(
  '../../auth-service/test/fixtures/mosquitto-auth-plug/http-requests.jsonl',
  import.meta.url,
);
/** The capture machine's auth service; the recording server's port replaces it. */
const CAPTURED_HOST = '127.0.0.1:18080';
/** SUBACK's refusal code in MQTT 3.1.1, and CONNACK's "not authorised". */
const SUBACK_FAILURE = 128;
const CONNACK_NOT_AUTHORISED = 5;
/** The plug's attempts per lookup: one, then http_retry_count (3) more on an error. */
const PLUG_ATTEMPTS = 4;

let pluginDir: string;
let pluginPath: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  pluginDir = await mkdtemp(join(tmpdir(), 'beckon-e2e-plugin-'));
  pluginPath = await buildAuthPlugin(pluginDir);
});

afterAll(async () => {
  await rm(pluginDir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
});

function startBroker(mode: AuthPluginMode, port: number): Promise<RunningMosquitto> {
  return startMosquitto({
    allowAnonymous: false,
    extraConfig: authPluginConfig({ pluginPath, mode, port }),
  });
}

async function login(
  broker: RunningMosquitto,
  username: string,
  password: string,
  clientId = `e2e-${username}-${clients.length}`,
): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, {
    username,
    password,
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  clients.push(client);

  return client;
}

/**
 * How a CONNECT ended: 'connected', the CONNACK reason code it was refused with, or 'dropped'
 * when the broker closed the connection without a CONNACK (the plugin reported an error).
 */
function connectOutcome(
  broker: RunningMosquitto,
  username: string,
  password: string,
): Promise<'connected' | 'dropped' | number> {
  const client = mqtt.connect(broker.url, {
    username,
    password,
    clientId: `e2e-outcome-${clients.length}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  clients.push(client);

  return new Promise((resolve) => {
    client.once('connect', () => resolve('connected'));
    client.once('error', (error) => {
      const code = (error as { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : 'dropped');
    });
    client.once('close', () => resolve('dropped'));
  });
}

/** The SUBACK codes of a subscription, whether MQTT.js resolved or rejected it. */
async function subackCodes(client: MqttClient, topic: string): Promise<number[] | undefined> {
  return client.subscribeAsync(topic, { qos: 1 }).then(
    (granted) => granted.map((grant) => grant.qos),
    (error: unknown) => (error as { packet?: { granted?: number[] } }).packet?.granted,
  );
}

describe.each<AuthPluginMode>(['plug', 'go-auth'])(
  'real Mosquitto asking the auth-service through the test plugin in %s mode',
  (mode) => {
    let auth: RunningAuth;
    let broker: RunningMosquitto;
    let agent: EnrolledAgent;
    let other: EnrolledAgent;

    beforeAll(async () => {
      auth = await startAuth();
      agent = await enrollAgent(auth, 'mq-a');
      other = await enrollAgent(auth, 'mq-b');
      broker = await startBroker(mode, auth.service.ports.broker);
    });

    afterAll(async () => {
      await broker.dispose();
      await auth.close();
      await Promise.all([agent, other].map(({ dir }) => rm(dir, { recursive: true })));
    });

    it('lets an enrolled agent connect and subscribe to its own commands topic', async () => {
      const client = await login(broker, agent.agentId, agent.password);

      expect(await subackCodes(client, agentTopics(agent.agentId).commands)).toEqual([1]);
    });

    it('answers a wrong secret with CONNACK not authorised', async () => {
      expect(await connectOutcome(broker, agent.agentId, other.password)).toBe(
        CONNACK_NOT_AUTHORISED,
      );
    });

    it("refuses a subscription to another agent's commands topic", async () => {
      const client = await login(broker, agent.agentId, agent.password);

      expect(await subackCodes(client, agentTopics(other.agentId).commands)).toEqual([
        SUBACK_FAILURE,
      ]);
    });

    it('refuses a disabled agent on its next connect, with no broker restart', async () => {
      await (await login(broker, other.agentId, other.password)).endAsync();
      await auth.admin.post(`/v1/agents/${other.agentId}/disable`);

      expect(await connectOutcome(broker, other.agentId, other.password)).toBe(
        CONNACK_NOT_AUTHORISED,
      );

      await auth.admin.post(`/v1/agents/${other.agentId}/enable`);
      expect(await connectOutcome(broker, other.agentId, other.password)).toBe('connected');
    });
  },
);

interface Recorded {
  /** Which TCP connection (from 0, in accept order) carried the request. */
  readonly connection: number;
  readonly bytes: Buffer;
}

/**
 * A raw TCP server that records every request whole and answers with the status `status`
 * picks from its request line, or with the raw bytes it returns instead; `closeIdle` closes
 * each connection after its answer.
 */
class RecordingServer {
  readonly requests: Recorded[] = [];
  status: (requestLine: string) => number | string = () => 200;
  closeIdle = false;
  readonly #server: Server = createServer((socket) => this.#serve(socket));
  readonly #sockets = new Set<Socket>();
  #connections = 0;

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();

    if (address === null || typeof address === 'string') {
      throw new Error('the recording server has no port');
    }

    return address.port;
  }

  /** Forgets the requests and numbers connections from 0 again. */
  reset(): void {
    this.requests.splice(0);
    this.status = () => 200;
    this.closeIdle = false;
    this.#connections = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) {
      socket.destroy();
    }

    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    const connection = this.#connections++;
    let pending = Buffer.alloc(0);

    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);

      for (let request = takeRequest(pending); request !== undefined;) {
        pending = pending.subarray(request.length);
        this.requests.push({ connection, bytes: request });
        const status = this.status(request.toString('latin1').split('\r\n')[0] ?? '');
        socket.write(
          typeof status === 'string' ? status : `HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n`,
        );

        if (this.closeIdle) {
          socket.end();
        }

        request = takeRequest(pending);
      }
    });
  }
}

/** The first complete request in `data` (head and Content-Length body), if there is one. */
function takeRequest(data: Buffer): Buffer | undefined {
  const headEnd = data.indexOf('\r\n\r\n');

  if (headEnd === -1) {
    return undefined;
  }

  const head = data.subarray(0, headEnd).toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  const end = headEnd + 4 + length;

  return data.length < end ? undefined : data.subarray(0, end);
}

async function capturedRequest(n: number, port: number): Promise<Buffer> {
  const line = (await readFile(CAPTURES, 'utf8')).split('\n')[n - 1] ?? '';
  const captured = JSON.parse(line) as CapturedRequest & { readonly n: number };
  expect(captured.n).toBe(n);

  return wireBytes({
    ...captured,
    headers: captured.headers.map(([name, value]) => {
      return [name, name === 'Host' ? value.replace(CAPTURED_HOST, `127.0.0.1:${port}`) : value];
    }),
  });
}

describe('what the test plugin puts on the wire', () => {
  let server: RecordingServer;
  let port: number;
  let broker: RunningMosquitto | undefined;

  beforeAll(async () => {
    server = new RecordingServer();
    port = await server.listen();
  });

  afterEach(async () => {
    await broker?.dispose();
    broker = undefined;
    server.reset();
  });

  afterAll(async () => {
    await server.close();
  });

  it('plug: sends the captured getuser, superuser and aclcheck bytes, each on a new connection', async () => {
    // The capture's first scenario: /superuser said 403, so the /acl request followed.
    server.status = (line) => (line.startsWith('POST /superuser ') ? 403 : 200);
    broker = await startBroker('plug', port);

    const client = await login(broker, 'alice', 'secret', 'sub-1');
    await client.subscribeAsync('sensors/+/temp', { qos: 1 });

    expect(server.requests.map(({ bytes }) => bytes.toString('latin1'))).toEqual(
      await Promise.all([1, 2, 3].map(async (n) => (await capturedRequest(n, port)).toString())),
    );
    expect(server.requests.map(({ connection }) => connection)).toEqual([0, 1, 2]);
  });

  it('plug: asks four times back to back on a 5xx, then drops the client without CONNACK', async () => {
    server.status = () => 500;
    broker = await startBroker('plug', port);

    expect(await connectOutcome(broker, 'alice', 'secret')).toBe('dropped');
    expect(server.requests.length).toBe(PLUG_ATTEMPTS);
  });

  it('plug: closes a subscriber whose ACL check failed, as the plug does', async () => {
    server.status = (line) => {
      return line.startsWith('POST /acl ') ? 500 : line.startsWith('POST /superuser ') ? 403 : 200;
    };
    broker = await startBroker('plug', port);

    const client = await login(broker, 'alice', 'secret');
    const closed = new Promise<'closed'>((resolve) =>
      client.once('close', () => resolve('closed')),
    );
    const subscribed = subackCodes(client, 'a/b');

    expect(await Promise.race([closed, subscribed])).toBe('closed');
  });

  it.each([
    ['no status line', 'hello\r\n\r\n'],
    ['a head that never ends', 'HTTP/1.1 200 OK\r\n' + 'X-Pad: y\r\n'.repeat(2_000)],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'],
    ['a chunked answer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('plug: takes %s for an error and keeps the broker running', async (_what, answer) => {
    server.status = () => answer;
    server.closeIdle = true;
    broker = await startBroker('plug', port);

    expect(await connectOutcome(broker, 'alice', 'secret')).toBe('dropped');
    expect(server.requests.length).toBe(PLUG_ATTEMPTS);
    expect(await canConnect(broker.port)).toBe(true);
  });

  it('go-auth: asks every question over one kept-alive connection', async () => {
    broker = await startBroker('go-auth', port);

    const client = await login(broker, 'alice', 'secret', 'c-1');
    await client.subscribeAsync('a/b', { qos: 1 });
    await client.publishAsync('a/b', 'x', { qos: 1 });

    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    expect(new Set(server.requests.map(({ connection }) => connection))).toEqual(new Set([0]));
    expect(server.requests[0]?.bytes.toString()).toBe(
      [
        'POST /go-auth/user HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'User-Agent: mosquitto',
        'Content-Length: 57',
        'Content-Type: application/json',
        'Accept-Encoding: gzip',
        '',
        '{"clientid":"c-1","password":"secret","username":"alice"}',
      ].join('\r\n'),
    );
  });

  it('go-auth: opens a new connection when the server closed the kept one', async () => {
    server.closeIdle = true;
    broker = await startBroker('go-auth', port);

    const client = await login(broker, 'alice', 'secret', 'c-2');

    expect(await subackCodes(client, 'a/b')).toEqual([1]);
    expect(server.requests.map(({ connection }) => connection)).toEqual([0, 1]);
  });
});
