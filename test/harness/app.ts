import { connect, type BeckonClient } from '@beckon/client';
import { generateSigningKeyPair } from '@beckon/shared';
import { exportJWK } from 'jose';
import type { RunningAuth } from './auth.js';

export interface TestApp {
  readonly appId: string;
  readonly secret: string;
  readonly privateJwk: Record<string, unknown>;
}

/** Registers an app with a fresh EdDSA key and the given grants. */
export async function addApp(
  auth: RunningAuth,
  appId: string,
  grants: readonly {
    agents?: readonly string[];
    groups?: readonly string[];
    actions?: readonly string[];
  }[],
): Promise<TestApp> {
  const secret = await auth.admin.addApp(appId);

  for (const grant of grants) {
    await auth.admin.grant(appId, grant);
  }

  const { privateKey } = await generateSigningKeyPair('EdDSA');
  const privateJwk = (await exportJWK(privateKey)) as Record<string, unknown>;

  return { appId, secret, privateJwk: { ...privateJwk, alg: 'EdDSA' } };
}

/** Connects the app's client over MQTT 3.1.1 (what the embedded broker speaks). */
export function connectApp(
  auth: RunningAuth,
  brokerUrl: string,
  app: TestApp,
  extra: Record<string, unknown> = {},
): Promise<BeckonClient> {
  return connect({
    url: brokerUrl,
    appId: app.appId,
    secret: app.secret,
    authUrl: auth.adminUrl,
    privateKey: app.privateJwk,
    mqttVersion: '3.1.1',
    connectTimeout: 10_000,
    reconnect: { firstDelayMaxMs: 100, initialDelayMs: 100, maxDelayMs: 1_000 },
    ...extra,
  });
}
