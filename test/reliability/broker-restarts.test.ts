import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BeckonClient } from '@beckon/client';
import type { Result } from '@beckon/shared';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addApp, connectApp } from '../harness/app.js';
import { startTestAgent, type RunningAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';
import { RESTART_COMMANDS, RESTART_COUNT } from './support/env.js';
import { reportFigure } from './support/figures.js';
import { recordAction, writeRecorder, type Recorder } from './support/recorder.js';

// Mosquitto with persistence carries the transport (anonymous: the broker checks are not what
// this test is about); the auth-service only enrolls the agent and certifies the app. Commands
// go out from many concurrent senders while the broker is restarted (SIGTERM, which writes its
// persistence, then started again on the same port).

const SENDERS = 40;
const SEND_TIMEOUT_MS = 180_000;

let auth: RunningAuth;
let mosquitto: RunningMosquitto;
let agent: RunningAgent;
let client: BeckonClient;
let recorder: Recorder;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'beckon-reliability-restarts-'));
  recorder = await writeRecorder(folder);
  auth = await startAuth();
  mosquitto = await startMosquitto({ persistence: true });
  agent = await startTestAgent(auth, 'restart-01', {
    brokerUrl: mosquitto.url,
    protocolVersion: 5,
    actions: recordAction(recorder),
  });
  const app = await addApp(auth, 'restarter', [{ agents: ['restart-01'] }]);
  client = await connectApp(auth, mosquitto.url, app, { mqttVersion: '5' });
});

afterAll(async () => {
  await client.close();
  await agent.stop();
  await mosquitto.dispose();
  await auth.close();
  await rm(folder, { recursive: true, force: true });
});

describe('commands sent while the broker restarts', () => {
  it(`every one of ${RESTART_COMMANDS} commands runs once and gets one result`, async () => {
    const deliveries = new Map<string, Result[]>();
    const watch = client.watchResults({
      onChange: (result) => {
        const id = result.commandId ?? '';
        deliveries.set(id, [...(deliveries.get(id) ?? []), result]);
      },
    });
    const tokens = Array.from(
      { length: RESTART_COMMANDS },
      (_, i) => `c${String(i).padStart(5, '0')}`,
    );
    const outcomes = new Map<string, { commandId: string; outcome: string }>();
    let next = 0;
    let finished = 0;
    const restartAt = Array.from({ length: RESTART_COUNT }, (_, i) =>
      Math.floor(((i + 1) * RESTART_COMMANDS) / (RESTART_COUNT + 1)),
    );
    const restarts: Promise<void>[] = [];
    const started = Date.now();

    const sender = async (): Promise<void> => {
      while (next < tokens.length) {
        const token = tokens[next++] ?? '';
        const handle = client.start(
          'restart-01',
          'record',
          { id: token },
          { timeout: SEND_TIMEOUT_MS },
        );
        const result = await handle.result;
        outcomes.set(token, { commandId: handle.id, outcome: result.outcome });
        finished += 1;

        if (restartAt.includes(finished)) {
          restarts.push(mosquitto.restart());
        }
      }
    };

    await Promise.all(Array.from({ length: SENDERS }, sender));
    await Promise.all(restarts);
    const elapsedMs = Date.now() - started;
    watch.close();

    const ran = await recorder.lines();
    const ranOnce = new Set(ran);
    reportFigure('broker-restarts', {
      commands: RESTART_COMMANDS,
      restarts: RESTART_COUNT,
      elapsedMs,
      resultDeliveries: [...deliveries.values()].flat().length,
    });

    expect(outcomes.size).toBe(RESTART_COMMANDS);
    expect([...outcomes.values()].every((entry) => entry.outcome === 'succeeded')).toBe(true);
    expect(ran).toHaveLength(RESTART_COMMANDS);
    expect(ranOnce.size).toBe(RESTART_COMMANDS);
    expect([...ranOnce].sort()).toEqual(tokens);

    // A redelivered result is the same result (the agent resends what it stored); never a
    // second run with a second outcome.
    for (const { commandId } of outcomes.values()) {
      const copies = deliveries.get(commandId) ?? [];
      expect(copies.length).toBeGreaterThanOrEqual(1);
      expect(new Set(copies.map((copy) => JSON.stringify(copy))).size).toBe(1);
    }
  });
});
