import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthServiceConfig, type AuthServiceConfigInput } from '../../src/config/schema.js';
import { generateToken } from '../../src/secrets/generate-secret.js';
import { tokenDigest } from '../../src/secrets/token-digest.js';
import {
  startAuthService,
  type AuthService,
  type StartAuthServiceOptions,
} from '../../src/server.js';
import { silentLogger } from './backends.js';

export interface TestService {
  readonly service: AuthService;
  readonly adminUrl: string;
  readonly publicUrl: string;
  readonly adminToken: string;
  readonly folder: string;
  close(): Promise<void>;
}

/** A real service on free ports over a fresh SQLite file, with one admin token. */
export async function startTestService(
  overrides: Partial<AuthServiceConfigInput> = {},
  extra: Partial<Pick<StartAuthServiceOptions, 'brokerChecks' | 'metrics' | 'logger'>> = {},
): Promise<TestService> {
  const folder = mkdtempSync(join(tmpdir(), 'beckon-auth-service-'));
  const config = AuthServiceConfig.parse({
    store: { kind: 'sqlite', path: join(folder, 'auth.db') },
    listeners: {
      admin: { host: '127.0.0.1', port: 0 },
      public: { host: '127.0.0.1', port: 0 },
      broker: { host: '127.0.0.1', port: 0 },
    },
    issuer: 'beckon-test',
    ...overrides,
  });
  const service = await startAuthService({
    config,
    logger: extra.logger ?? silentLogger,
    ...extra,
  });
  const adminToken = generateToken('bat');

  await service.store.mutate('test', async (writer) => {
    await writer.insertAdminToken({ id: 'at_test', name: 'test', digest: tokenDigest(adminToken) });
    await writer.audit({ action: 'admin-token.create', target: 'admin-token:at_test' });
  });

  return {
    service,
    adminUrl: `http://127.0.0.1:${service.ports.admin}`,
    publicUrl: `http://127.0.0.1:${service.ports.public}`,
    adminToken,
    folder,
    close: async () => {
      await service.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

export interface CallOptions {
  readonly method?: string;
  readonly token?: string;
  readonly basic?: readonly [string, string];
  readonly body?: unknown;
  /** Sent as-is instead of JSON.stringify(body). */
  readonly rawBody?: string | Buffer;
  readonly headers?: Record<string, string>;
}

export interface CallResult {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly headers: Headers;
}

/** One HTTP request over a real socket. */
export async function call(url: string, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };

  if (options.token !== undefined) {
    headers.authorization = `Bearer ${options.token}`;
  }

  if (options.basic !== undefined) {
    headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
  }

  let body: string | Buffer | undefined = options.rawBody;

  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
  }

  if (body !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/json';
  }

  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown;

  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }

  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Digs into a JSON answer: `at(body, 'agent', 'id')`. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let node = value;

  for (const key of path) {
    node =
      node !== null && typeof node === 'object'
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }

  return node;
}

/** Like `at`, for a value the test needs as a string. */
export function textAt(value: unknown, ...path: (string | number)[]): string {
  const found = at(value, ...path);

  if (typeof found !== 'string') {
    throw new TypeError(`expected a string at ${path.join('.')}, found ${JSON.stringify(found)}`);
  }

  return found;
}
