import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { connect, type BeckonClient } from '@beckon/client';
import { PlugClient } from '@beckon/auth-service';
import { startEmbeddedBroker, type EmbeddedBroker } from '@beckon/local';
import { generateSigningKeyPair, parseInbound } from '@beckon/shared';
import { exportJWK } from 'jose';
import mqtt, { type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCliProcess, writeAgentFile } from './support/agent-process.js';
import { AuthProcess } from './support/auth-process.js';
import { REPO_ROOT } from './support/paths.js';

// One full run with every part logging at debug: the auth-service (`beckon-auth serve`), the
// embedded broker, the agent (`beckon-agent enroll` and `run`), and the client. Every secret
// the run used is then looked for in every line, whole and in the forms it travels in.

const run = promisify(execFile);
const AGENT_ID = 'quiet-01';
const SECRET_ARG = `arg-${Math.random().toString(36).slice(2)}-do-not-log`;
const WRONG_PASSWORD = `wrong-${Math.random().toString(36).slice(2)}-guess`;

let auth: AuthProcess;
let broker: EmbeddedBroker;
let agent: AgentCliProcess;
let client: BeckonClient;
let watcher: MqttClient;
let dir: string;
const brokerLines: string[] = [];
const clientLines: string[] = [];
const enrollOutput: string[] = [];
const secrets = new Map<string, string>();
const seenCommands: string[] = [];

function capture(lines: string[]): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });

  return pino({ level: 'debug' }, stream);
}

beforeAll(async () => {
  auth = await AuthProcess.create({ logLevel: 'debug' });
  secrets.set('admin token', await auth.createAdminToken());
  await auth.start();
  broker = await startEmbeddedBroker({
    checks: auth.plug(),
    logger: capture(brokerLines),
    port: 0,
  });

  // Enrollment through the CLI, with the token in the environment as the docs advise.
  const enrollToken = await auth.admin.enrollToken(AGENT_ID);
  secrets.set('enrollment token', enrollToken);
  dir = await mkdtemp(join(tmpdir(), 'beckon-reliability-logs-'));
  const credentialsFile = join(dir, 'credentials.json');
  const enrolled = await run(
    process.execPath,
    [
      join(REPO_ROOT, 'agent', 'dist', 'cli.js'),
      'enroll',
      '--url',
      auth.publicUrl,
      '--agent-id',
      AGENT_ID,
      '--credentials',
      credentialsFile,
    ],
    {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', BECKON_AGENT_ENROLL_TOKEN: enrollToken },
    },
  );
  enrollOutput.push(enrolled.stdout, enrolled.stderr);
  const credentials = JSON.parse(await readFile(credentialsFile, 'utf8')) as { password: string };
  secrets.set('agent password', credentials.password);

  const configPath = await writeAgentFile(
    { agentId: AGENT_ID, dir, credentialsFile, password: credentials.password },
    {
      brokerUrl: broker.url,
      logLevel: 'debug',
      actions: {
        login: {
          argv: ['/bin/true', { arg: 'password' }],
          args: { password: { type: 'string', secret: true } },
        },
      },
    },
  );
  agent = new AgentCliProcess(configPath);
  await agent.waitForLog(
    (line) => line.msg === 'agent state' && line['state'] === 'connected',
    30_000,
  );

  const appSecret = await auth.admin.addApp('quiet-app');
  secrets.set('app secret', appSecret);
  await auth.admin.grant('quiet-app', { agents: [AGENT_ID] });
  const root = await auth.admin.post('/v1/apps', { id: 'quiet-root', superuser: true });
  secrets.set('superuser secret', String(root['secret']));

  // A superuser watching the commands topic collects the credentials and signatures that
  // travel inside commands, so the logs can be searched for them too.
  watcher = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    username: 'quiet-root',
    password: String(root['secret']),
    reconnectPeriod: 0,
  });
  watcher.on('message', (_topic, payload) => seenCommands.push(payload.toString()));
  await watcher.subscribeAsync('beckon/v1/agents/+/commands', { qos: 1 });

  const { privateKey } = await generateSigningKeyPair('EdDSA');
  const privateJwk = { ...(await exportJWK(privateKey)), alg: 'EdDSA' };
  secrets.set('app private key', String(privateJwk.d));
  client = await connect({
    url: broker.url,
    appId: 'quiet-app',
    secret: appSecret,
    authUrl: auth.adminUrl,
    privateKey: privateJwk,
    mqttVersion: '3.1.1',
    logger: capture(clientLines),
  });
});

afterAll(async () => {
  await watcher.endAsync(true);
  await client.close();
  await agent.dispose();
  await broker.close();
  await auth.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('logs of a full run at debug level', () => {
  it('never contain a secret, token, password or secret argument', async () => {
    await client.send(AGENT_ID, 'login', { password: SECRET_ARG }, { timeout: 30_000 });
    await client.send(AGENT_ID, 'ping', {}, { timeout: 30_000 });
    secrets.set('secret argument', SECRET_ARG);

    // A broker JWT, asked for and used on the plug's jwt backend.
    const basic = Buffer.from(`quiet-app:${secrets.get('app secret') ?? ''}`).toString('base64');
    const tokenAnswer = await fetch(`${auth.adminUrl}/v1/broker-token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
    });
    const { token: brokerToken } = (await tokenAnswer.json()) as { token: string };
    secrets.set('broker token', brokerToken);
    const jwtPlug = new PlugClient({ backend: 'jwt', ip: '127.0.0.1', port: auth.ports.broker });
    expect(await jwtPlug.getUser(brokerToken, 'jwt')).toBe('yes');
    expect(await jwtPlug.checkAcl(brokerToken, `beckon/v1/agents/${AGENT_ID}/commands`, 2)).toBe(
      'yes',
    );

    // A wrong password for the agent's own username: not a secret of the run, but a guess that
    // may be someone's real password, so it must not be logged either.
    await mqtt
      .connectAsync(broker.url, {
        protocolVersion: 4,
        username: AGENT_ID,
        password: WRONG_PASSWORD,
        reconnectPeriod: 0,
      })
      .then((intruder) => intruder.endAsync(true))
      .catch(() => undefined);
    secrets.set('wrong password', WRONG_PASSWORD);

    for (const payload of seenCommands) {
      const parsed = parseInbound(payload);

      if (parsed.ok && parsed.value.auth !== undefined) {
        secrets.set('app credential', parsed.value.auth.credential);
        secrets.set('command signature', parsed.value.auth.signature.split('..')[1] ?? '');
      }
    }

    await agent.dispose();
    await auth.stop('SIGTERM');

    const logs = {
      'auth-service': auth.lines,
      broker: brokerLines,
      agent: agent.lines,
      'agent enroll': enrollOutput,
      client: clientLines,
    };
    const needles = [...secrets].flatMap(([name, secret]) => [
      [name, secret],
      // Tokens and passwords also travel base64-encoded in Basic headers, and a JWT's
      // signature alone would be enough to replay it.
      [`${name} (base64)`, Buffer.from(secret).toString('base64')],
      ...(secret.split('.').length === 3
        ? [[`${name} (signature)`, secret.split('.')[2] ?? '']]
        : []),
    ]);
    const leaks: string[] = [];

    for (const [part, lines] of Object.entries(logs)) {
      for (const line of lines) {
        for (const [name, needle] of needles) {
          if (needle !== undefined && needle.length >= 8 && line.includes(needle)) {
            leaks.push(`${part} logged the ${name ?? ''}: ${line.slice(0, 200)}`);
          }
        }
      }
    }

    expect(secrets.size).toBe(11);
    // The logs are not empty: they name the agent and the command they are about.
    expect(auth.lines.some((line) => line.includes(AGENT_ID))).toBe(true);
    expect(auth.lines.some((line) => line.startsWith('{"level":20'))).toBe(true);
    expect(agent.lines.some((line) => line.includes('"command started"'))).toBe(true);
    expect(brokerLines.length + clientLines.length).toBeGreaterThan(0);
    expect(leaks).toEqual([]);
  });
});
