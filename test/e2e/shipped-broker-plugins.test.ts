import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GoAuthClient, loadConfig, PlugClient } from '@beckon/auth-service';
import { agentTopics } from '@beckon/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAgent, type EnrolledAgent } from '../harness/agent.js';
import { startAuth, type RunningAuth } from '../harness/auth.js';

// The broker's plugin settings and the auth-service's config ship as separate files; each
// plugin must ask the URIs, in the body format, that the shipped auth-service answers, or every
// agent is refused in production while each file passes its own checks. Neither plugin runs
// here, so GoAuthClient and PlugClient ask as they do, configured from the shipped files (only
// the address is this test's own).

const file = (relative: string): string =>
  fileURLToPath(new URL(`../../deploy/${relative}`, import.meta.url));

/** `auth_opt_*` settings of a Mosquitto config, by name without the prefix. */
async function authOptions(relative: string): Promise<Map<string, string>> {
  const options = new Map<string, string>();

  for (const line of (await readFile(file(relative), 'utf8')).split('\n')) {
    const match = /^auth_opt_(\S+)\s+(.*)$/.exec(line.trim());

    if (match?.[1] !== undefined && match[2] !== undefined) {
      options.set(match[1], match[2]);
    }
  }

  return options;
}

function option(options: Map<string, string>, name: string): string {
  const value = options.get(name);

  if (value === undefined) {
    throw new Error(`auth_opt_${name} is not set`);
  }

  return value;
}

const BROKER_KEY = Buffer.from('shipped-config-test-broker-key!!').toString('base64');

interface Scene {
  readonly auth: RunningAuth;
  readonly agent: EnrolledAgent;
  readonly other: EnrolledAgent;
  /** An app marked superuser. */
  readonly superuser: string;
}

/**
 * The real auth-service with the shipped broker-check settings and two enrolled agents;
 * `brokerKey` is the plug's key, which a deployment of the plug sets for itself (go-auth
 * cannot send one, so the shipped config has none).
 */
async function startScene(brokerKey?: string): Promise<Scene> {
  const shipped = loadConfig({
    file: file('auth-service/auth.yaml'),
    env: { BECKON_AUTH_STORE_URL: 'sqlite:/unused.db' },
  });
  const auth = await startAuth({
    config: {
      brokerChecks: {
        ...shipped.brokerChecks,
        ...(brokerKey === undefined ? {} : { brokerKey }),
      },
    },
  });

  await auth.admin.addApp('shipped-ops');
  await auth.admin.request('PUT', '/v1/superusers/shipped-ops');

  return {
    auth,
    agent: await enrollAgent(auth, 'shipped-a'),
    other: await enrollAgent(auth, 'shipped-b'),
    superuser: 'shipped-ops',
  };
}

describe('the shipped go-auth broker config against the shipped auth-service config', () => {
  let scene: Scene;

  beforeAll(async () => {
    scene = await startScene();
  });

  afterAll(async () => {
    await scene.auth.close();
  });

  it.each(['mosquitto/mosquitto.conf', 'k8s/base/broker/mosquitto.conf'])(
    '%s: an agent logs in, subscribes to its commands and publishes its status, nothing else',
    async (path) => {
      const options = await authOptions(path);
      expect(option(options, 'backends')).toBe('http');

      const method = option(options, 'http_method');
      const paramsMode = option(options, 'http_params_mode');
      const responseMode = option(options, 'http_response_mode');
      expect(['POST', 'GET', 'PUT']).toContain(method);
      expect(['json', 'form']).toContain(paramsMode);
      expect(['status', 'json', 'text']).toContain(responseMode);

      const client = new GoAuthClient({
        host: '127.0.0.1',
        port: scene.auth.service.ports.broker,
        uris: {
          getuser: option(options, 'http_getuser_uri'),
          superuser: option(options, 'http_superuser_uri'),
          aclcheck: option(options, 'http_aclcheck_uri'),
        },
        method: method as 'POST' | 'GET' | 'PUT',
        paramsMode: paramsMode as 'json' | 'form',
        responseMode: responseMode as 'status' | 'json' | 'text',
        timeoutSeconds: Number(option(options, 'http_timeout')),
        disableSuperuser: options.get('disable_superuser') === 'true',
      });
      const { agent, other } = scene;
      const mine = agentTopics(agent.agentId);
      const theirs = agentTopics(other.agentId);

      try {
        expect(await client.authenticate(agent.agentId, agent.password, 'c1')).toBe('yes');
        expect(await client.authenticate(agent.agentId, other.password, 'c1')).toBe('no');
        expect(await client.checkAcl(agent.agentId, mine.commands, 4, 'c1')).toBe('yes');
        expect(await client.checkAcl(agent.agentId, mine.status, 2, 'c1')).toBe('yes');
        expect(await client.checkAcl(agent.agentId, theirs.commands, 4, 'c1')).toBe('no');
        expect(await client.checkAcl(agent.agentId, theirs.status, 2, 'c1')).toBe('no');
        // Without superuser requests a superuser still may do anything: the ACL answer says so.
        expect(await client.checkAcl(scene.superuser, theirs.commands, 2, 'c1')).toBe('yes');
        expect(await client.checkAcl(scene.superuser, 'beckon/v1/anything', 4, 'c1')).toBe('yes');
      } finally {
        client.close();
      }
    },
  );
});

describe('the shipped mosquitto-auth-plug block against the shipped auth-service config', () => {
  let scene: Scene;

  beforeAll(async () => {
    scene = await startScene(BROKER_KEY);
  });

  afterAll(async () => {
    await scene.auth.close();
  });

  it('lets an agent log in, subscribe to its commands and publish its status, nothing else', async () => {
    const options = await authOptions('mosquitto/mosquitto-auth-plug.conf');
    expect(option(options, 'http_basic_auth_key')).toBe('REPLACE_WITH_THE_BROKER_KEY');

    const plug = new PlugClient({
      backend: 'http',
      ip: '127.0.0.1',
      port: scene.auth.service.ports.broker,
      basicAuthKey: BROKER_KEY,
      uris: {
        getuser: option(options, 'http_getuser_uri'),
        superuser: option(options, 'http_superuser_uri'),
        aclcheck: option(options, 'http_aclcheck_uri'),
      },
    });
    const { agent, other } = scene;
    const mine = agentTopics(agent.agentId);
    const theirs = agentTopics(other.agentId);

    expect(await plug.authenticate(agent.agentId, agent.password)).toBe('yes');
    expect(await plug.authenticate(agent.agentId, other.password)).toBe('no');
    expect(await plug.checkAcl(agent.agentId, mine.commands, 4)).toBe('yes');
    expect(await plug.checkAcl(agent.agentId, mine.status, 2)).toBe('yes');
    expect(await plug.checkAcl(agent.agentId, theirs.commands, 4)).toBe('no');
    expect(await plug.checkAcl(agent.agentId, theirs.status, 2)).toBe('no');
  });
});
