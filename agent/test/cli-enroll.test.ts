import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { EnrollResponse } from '@beckon/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, main, type CliEnv } from '../src/cli/main.js';
import { readCredentials } from '../src/enroll/credentials-file.js';
import { removeDir, tempDir } from './support/harness.js';
import { createTestTrust } from './support/signing.js';

// A small real HTTP server that answers `POST /v1/enroll` per the contract in
// shared/src/http-api.ts, standing in for the auth-service (built separately).

const TOKEN = 'enroll-token-0123456789abcdef';
const PASSWORD = 'the-broker-password-from-enrollment';

type Handler = (body: unknown, response: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let dir: string;
let handler: Handler;
const requests: { method: string; url: string; body: unknown }[] = [];

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text === '' ? undefined : (JSON.parse(text) as unknown)));
  });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

beforeAll(async () => {
  dir = await tempDir('enroll');
  server = createServer((request, response) => {
    void readBody(request).then((body) => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', body });
      handler(body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  requests.length = 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await removeDir(dir);
});

async function cli(argv: string[], env: CliEnv = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(
    ['enroll', ...argv],
    { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line), env },
    undefined,
  );

  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('beckon-agent enroll', () => {
  it('trades the token for credentials and writes them owner-only, never printing the secret', async () => {
    const trustRoot = (await createTestTrust()).trustRoot;
    const enrolled: EnrollResponse = {
      agentId: 'web-01',
      username: 'web-01',
      password: PASSWORD,
      groups: ['web'],
      trustRoot,
      brokerUrl: 'mqtts://broker.example.com:8883',
    };
    handler = (_body, response) => answer(response, 200, enrolled);
    const path = join(dir, 'credentials.json');

    const { code, stdout, stderr } = await cli([
      '--url',
      `${baseUrl}/`,
      '--token',
      TOKEN,
      '--agent-id',
      'web-01',
      '--credentials',
      path,
    ]);

    expect({ code, stderr }).toEqual({ code: EXIT_OK, stderr: '' });
    expect(stdout).toBe(`enrolled as web-01; credentials written to ${path}`);
    expect(stdout).not.toContain(PASSWORD);
    expect(requests).toEqual([
      {
        method: 'POST',
        url: '/v1/enroll',
        body: { token: TOKEN, agentId: 'web-01', hostname: expect.any(String) as string },
      },
    ]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readCredentials(path)).toMatchObject({
      ...enrolled,
      authUrl: baseUrl,
      enrolledAt: expect.any(String) as string,
    });
  });

  it('takes the token from BECKON_AGENT_ENROLL_TOKEN, keeping it out of ps', async () => {
    const trustRoot = (await createTestTrust()).trustRoot;
    handler = (_body, response) =>
      answer(response, 200, {
        agentId: 'web-02',
        username: 'web-02',
        password: PASSWORD,
        groups: [],
        trustRoot,
      });

    const { code } = await cli(
      ['--url', baseUrl, '--credentials', join(dir, 'env-credentials.json')],
      { BECKON_AGENT_ENROLL_TOKEN: TOKEN },
    );

    expect(code).toBe(EXIT_OK);
    expect(requests[0]?.body).toMatchObject({ token: TOKEN });
  });

  it('reports the auth-service refusal and writes nothing', async () => {
    handler = (_body, response) =>
      answer(response, 401, { error: { code: 'invalid_token', message: 'token already used' } });
    const path = join(dir, 'refused.json');

    const { code, stderr } = await cli(['--url', baseUrl, '--token', TOKEN, '--credentials', path]);

    expect(code).toBe(EXIT_FAILURE);
    expect(stderr).toBe(
      'beckon-agent: auth-service refused enrollment (401 invalid_token): token already used',
    );
    await expect(stat(path)).rejects.toThrow('ENOENT');
  });

  it('refuses an answer that does not match the contract, naming the field', async () => {
    handler = (_body, response) => answer(response, 200, { agentId: 'web-03', username: 'web-03' });

    const { code, stderr } = await cli([
      '--url',
      baseUrl,
      '--token',
      TOKEN,
      '--credentials',
      join(dir, 'invalid.json'),
    ]);

    expect(code).toBe(EXIT_FAILURE);
    expect(stderr).toContain('auth-service answer is not valid');
    expect(stderr).toContain('password');
  });

  it('refuses credentials for another agent than the one asked for', async () => {
    const trustRoot = (await createTestTrust()).trustRoot;
    handler = (_body, response) =>
      answer(response, 200, {
        agentId: 'someone-else',
        username: 'someone-else',
        password: PASSWORD,
        groups: [],
        trustRoot,
      });

    const { code, stderr } = await cli([
      '--url',
      baseUrl,
      '--token',
      TOKEN,
      '--agent-id',
      'web-04',
      '--credentials',
      join(dir, 'other.json'),
    ]);

    expect(code).toBe(EXIT_FAILURE);
    expect(stderr).toContain(
      'asked to enroll as web-04 but the auth-service enrolled someone-else',
    );
  });

  it.each([
    [['--url', 'ftp://auth', '--token', TOKEN, '--credentials', 'x.json'], '--url'],
    [['--url', 'https://auth', '--token', 'short', '--credentials', 'x.json'], '--token'],
    [['--url', 'https://auth', '--token', TOKEN], '--credentials'],
    [
      ['--url', 'https://auth', '--token', TOKEN, '--agent-id', 'a/b', '--credentials', 'x'],
      '--agent-id',
    ],
  ])('exits 2 naming the bad flag: %j', async (argv, flag) => {
    const { code, stderr } = await cli(argv);

    expect(code).toBe(EXIT_USAGE);
    expect(stderr).toContain(flag);
    expect(requests).toEqual([]);
  });
});
