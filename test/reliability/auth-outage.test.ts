import { rm } from 'node:fs/promises';
import { connect, isBeckonError, type BeckonClient } from '@beckon/client';
import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { generateSigningKeyPair } from '@beckon/shared';
import { exportJWK } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCliProcess, logTime, writeAgentFile } from './support/agent-process.js';
import { AuthProcess } from './support/auth-process.js';
import { AUTH_OUTAGE_MS } from './support/env.js';
import { reportFigure } from './support/figures.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { enrollAgent } from '../harness/agent.js';

// The auth-service (`beckon-auth serve`, its own process) is stopped for AUTH_OUTAGE_MS and
// started again on the same ports with the same SQLite store. The embedded broker asks it every
// question over the plug's HTTP requests. Agents are the real CLI with production backoff:
// some stay connected throughout, others lose their connection (a proxy in front of the broker
// cuts it) and must come back by themselves, within a minute of the service's return.

const STEADY = ['steady-1', 'steady-2', 'steady-3'];
const DROPPED = ['dropped-1', 'dropped-2', 'dropped-3'];
const BACK_WITHIN_MS = 60_000;
const CONNECT_TIMEOUT_MS = 30_000;
const SEND_TIMEOUT_MS = AUTH_OUTAGE_MS + 2 * BACK_WITHIN_MS;

let auth: AuthProcess;
let broker: EmbeddedBroker;
let proxy: TcpProxy;
let client: BeckonClient;
const agents = new Map<string, AgentCliProcess>();
const agentDirs: string[] = [];

function connectedSince(agent: AgentCliProcess, since: number, timeoutMs: number) {
  return agent.waitForLog(
    (line) => line.msg === 'agent state' && line['state'] === 'connected' && logTime(line) >= since,
    timeoutMs,
  );
}

beforeAll(async () => {
  auth = await AuthProcess.create();
  await auth.createAdminToken();
  await auth.start();
  broker = await startEmbeddedBroker({
    checks: auth.plug(),
    logger: pino({ level: 'silent' }),
    port: 0,
  });
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: broker.port });

  for (const id of [...STEADY, ...DROPPED]) {
    const enrolled = await enrollAgent(auth, id, ['fleet']);
    agentDirs.push(enrolled.dir);
    const path = await writeAgentFile(enrolled, {
      brokerUrl: DROPPED.includes(id) ? proxy.url : broker.url,
    });
    agents.set(id, new AgentCliProcess(path));
  }

  const secret = await auth.admin.addApp('operator');
  await auth.admin.grant('operator', { groups: ['fleet'] });
  const { privateKey } = await generateSigningKeyPair('EdDSA');
  client = await connect({
    url: broker.url,
    appId: 'operator',
    secret,
    authUrl: auth.adminUrl,
    privateKey: { ...(await exportJWK(privateKey)), alg: 'EdDSA' },
    mqttVersion: '3.1.1',
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  await Promise.all(
    [...agents.values()].map((agent) => connectedSince(agent, 0, CONNECT_TIMEOUT_MS)),
  );
});

afterAll(async () => {
  await client.close();
  await Promise.all([...agents.values()].map((agent) => agent.dispose()));
  await proxy.close();
  await broker.close();
  await auth.dispose();
  await Promise.all(agentDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe(`the auth-service down for ${AUTH_OUTAGE_MS / 1_000} s`, () => {
  it('keeps connected agents connected and brings dropped ones back by themselves', async () => {
    const everyone = [...STEADY, ...DROPPED];
    const before = await client.sendMany(everyone, 'ping', {}, { timeout: SEND_TIMEOUT_MS });
    expect(before.succeeded).toBe(everyone.length);

    await auth.stop('SIGTERM');
    const downAt = Date.now();
    proxy.dropConnections();

    // A command sent during the outage: the broker cannot check the app's publish, so it is
    // held (in the client's QoS 1 store across its reconnects) until the service is back.
    const during = client.send(STEADY[0] ?? '', 'ping', {}, { timeout: SEND_TIMEOUT_MS }).then(
      (result) => ({ outcome: result.outcome, at: Date.now() }),
      (error: unknown) => ({
        outcome: isBeckonError(error) ? error.code : 'error',
        at: Date.now(),
      }),
    );

    await new Promise((resolve) => setTimeout(resolve, AUTH_OUTAGE_MS));
    const attemptsDuringOutage = Object.fromEntries(
      DROPPED.map((id) => [
        id,
        agents
          .get(id)
          ?.logs.filter((line) => line.msg === 'reconnect scheduled' && logTime(line) >= downAt)
          .length,
      ]),
    );
    await auth.start();
    const upAt = Date.now();

    const backAfterMs: Record<string, number> = {};
    await Promise.all(
      DROPPED.map(async (id) => {
        const agent = agents.get(id);

        if (agent === undefined) {
          throw new Error(`no agent ${id}`);
        }

        const line = await connectedSince(agent, upAt, BACK_WITHIN_MS + 30_000);
        backAfterMs[id] = logTime(line) - upAt;
      }),
    );
    const steadyReconnects = STEADY.map(
      (id) =>
        agents
          .get(id)
          ?.logs.filter((line) => line.msg === 'agent state' && line['state'] === 'reconnecting')
          .length ?? 0,
    );
    const after = await client.sendMany(everyone, 'ping', {}, { timeout: SEND_TIMEOUT_MS });
    const held = await during;

    reportFigure('auth-outage', {
      outageMs: AUTH_OUTAGE_MS,
      backAfterMs,
      attemptsDuringOutage,
      steadyReconnects,
      heldCommand: { outcome: held.outcome, answeredAfterReturnMs: held.at - upAt },
    });

    expect(Object.values(backAfterMs).every((ms) => ms <= BACK_WITHIN_MS)).toBe(true);
    expect(steadyReconnects).toEqual([0, 0, 0]);
    // Backing off: fewer attempts than one a second on average, where a tight loop makes
    // hundreds.
    for (const attempts of Object.values(attemptsDuringOutage)) {
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThan(AUTH_OUTAGE_MS / 1_000);
    }
    expect(after.succeeded).toBe(everyone.length);
    expect(held.outcome).toBe('succeeded');
    expect(held.at).toBeGreaterThan(upAt);
    expect(upAt - downAt).toBeGreaterThanOrEqual(AUTH_OUTAGE_MS);
  });
});
