import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from '@beckon/test-support';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPath, parseMosquittoConf, runTool } from './helpers.js';

const COMPOSE_CONF = deployPath('mosquitto', 'mosquitto.conf');
const K8S_CONF = deployPath('k8s', 'base', 'broker', 'mosquitto.conf');
const AUTH_PLUG_CONF = deployPath('mosquitto', 'mosquitto-auth-plug.conf');
const MOSQUITTO_BIN = process.env['BECKON_TEST_MOSQUITTO'] ?? '/usr/sbin/mosquitto';
const BROKER_START_TIMEOUT_MS = 10_000;

const POLL_INTERVAL_MS = 25;

async function waitForListener(child: ChildProcess, port: number): Promise<void> {
  const deadline = Date.now() + BROKER_START_TIMEOUT_MS;

  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`mosquitto exited with ${child.exitCode}`);
    }

    if (await canConnect(port)) {
      return;
    }

    await sleep(POLL_INTERVAL_MS);
  }

  throw new Error(`mosquitto did not listen on ${port} within ${BROKER_START_TIMEOUT_MS} ms`);
}

/** Revocation must take effect within this many seconds of an admin's change. */
const MAX_REVOCATION_S = 10;

function single(settings: Map<string, string[]>, key: string): string | undefined {
  const values = settings.get(key);
  expect(values?.length ?? 0, `${key} appears at most once`).toBeLessThanOrEqual(1);
  return values?.[0];
}

/** Each paragraph (lines between blank lines) that sets something also explains it. */
function uncommentedSettings(text: string): string[] {
  return text
    .split(/\n\s*\n/)
    .filter((paragraph) => !paragraph.split('\n').some((line) => line.startsWith('#')))
    .flatMap((paragraph) => paragraph.split('\n').filter((line) => line.trim() !== ''));
}

describe('the go-auth broker config (deploy/mosquitto/mosquitto.conf)', () => {
  let text: string;
  let conf: Map<string, string[]>;

  beforeAll(async () => {
    text = await readFile(COMPOSE_CONF, 'utf8');
    conf = parseMosquittoConf(text);
  });

  it('listens only with TLS and lets nobody in anonymously', () => {
    expect(conf.get('listener')).toEqual(['8883']);
    expect(single(conf, 'certfile')).toBe('/mosquitto/certs/tls.crt');
    expect(single(conf, 'keyfile')).toBe('/mosquitto/certs/tls.key');
    expect(single(conf, 'allow_anonymous')).toBe('false');
  });

  it('turns off Nagle and keeps offline agents\u2019 queues across restarts', () => {
    expect(single(conf, 'set_tcp_nodelay')).toBe('true');
    expect(single(conf, 'persistence')).toBe('true');
    expect(single(conf, 'persistence_location')).toBe('/mosquitto/data/');
  });

  it('bounds packets just above the largest Beckon message', () => {
    const limit = Number(single(conf, 'max_packet_size'));
    expect(limit).toBeGreaterThan(512 * 1_024);
    expect(limit).toBeLessThan(1_024 * 1_024);
  });

  it('asks the auth-service broker-check listener through go-auth\u2019s http backend', () => {
    expect(single(conf, 'auth_plugin')).toBe('/mosquitto/go-auth.so');
    expect(single(conf, 'auth_opt_backends')).toBe('http');
    expect(single(conf, 'auth_opt_http_host')).toBe('auth-service');
    expect(single(conf, 'auth_opt_http_port')).toBe('8181');
    expect(single(conf, 'auth_opt_http_getuser_uri')).toBe('/go-auth/user');
    expect(single(conf, 'auth_opt_http_superuser_uri')).toBe('/go-auth/superuser');
    expect(single(conf, 'auth_opt_http_aclcheck_uri')).toBe('/go-auth/acl');
    expect(single(conf, 'auth_opt_http_response_mode')).toBe('status');
    expect(single(conf, 'auth_opt_disable_superuser')).toBe('true');
    expect(Number(single(conf, 'auth_opt_http_timeout'))).toBeLessThanOrEqual(5);
  });

  it('keeps the plugin quiet and never logs packets', () => {
    expect(single(conf, 'auth_opt_log_level')).toBe('warn');
    expect(conf.get('log_type')).not.toContain('debug');
    expect(conf.get('log_type')).not.toContain('all');
  });

  it('caches decisions briefly and without refresh, so revocation is prompt', () => {
    const ttl = Number(single(conf, 'auth_opt_acl_cache_seconds'));
    const jitter = Number(single(conf, 'auth_opt_acl_jitter_seconds'));
    expect(ttl + jitter).toBeLessThanOrEqual(MAX_REVOCATION_S);
    expect(jitter).toBeLessThan(ttl);
    expect(Number(single(conf, 'auth_opt_auth_cache_seconds'))).toBeLessThanOrEqual(ttl);
    expect(single(conf, 'auth_opt_cache_refresh')).toBe('false');
    expect(single(conf, 'auth_opt_cache_reset')).toBe('true');
  });

  it('explains every setting in a comment', () => {
    expect(uncommentedSettings(text)).toEqual([]);
  });

  it('is the same file in Kubernetes but for the auth-service\u2019s Service name', async () => {
    const k8s = await readFile(K8S_CONF, 'utf8');
    const expected = text.replace(
      /^auth_opt_http_host auth-service$/m,
      'auth_opt_http_host beckon-auth-checks',
    );
    expect(k8s).toBe(expected);
  });
});

describe('the mosquitto-auth-plug block (deploy/mosquitto/mosquitto-auth-plug.conf)', () => {
  let text: string;
  let conf: Map<string, string[]>;

  beforeAll(async () => {
    text = await readFile(AUTH_PLUG_CONF, 'utf8');
    conf = parseMosquittoConf(text);
  });

  it('has every option the plugin needs to start (see the contract README)', () => {
    expect(single(conf, 'auth_opt_backends')).toBe('http,jwt');
    expect(single(conf, 'auth_opt_http_ip')).toBe('127.0.0.1');
    expect(single(conf, 'auth_opt_http_port')).toBe('8181');
    expect(single(conf, 'auth_opt_http_getuser_uri')).toBe('/auth');
    expect(single(conf, 'auth_opt_http_superuser_uri')).toBe('/superuser');
    expect(single(conf, 'auth_opt_http_aclcheck_uri')).toBe('/acl');
  });

  it('authenticates the broker with a key and keeps passwords out of the log', () => {
    expect(single(conf, 'auth_opt_http_basic_auth_key')).toMatch(/^\S+$/);
    expect(single(conf, 'auth_opt_log_quiet')).toBe('true');
  });

  it('caches ACL answers briefly instead of the default 300 s', () => {
    expect(Number(single(conf, 'auth_opt_acl_cacheseconds')) + 1).toBeLessThanOrEqual(
      MAX_REVOCATION_S,
    );
    expect(single(conf, 'auth_opt_auth_cacheseconds')).toBe('0');
  });

  it('retries once at most, since every retry stalls the whole broker', () => {
    expect(Number(single(conf, 'auth_opt_http_retry_count'))).toBeLessThanOrEqual(1);
  });

  it('explains every setting in a comment', () => {
    expect(uncommentedSettings(text)).toEqual([]);
  });
});

// Debian's Mosquitto (2.0.11, the image has 2.0.18) loads the shipped config with the plugin
// lines removed, since Debian does not package go-auth: the listener, TLS, persistence and
// limits are checked by the real broker, and with no plugin and no password file every
// client is refused, which is the point of `allow_anonymous false`.
describe('Mosquitto with the shipped config (plugin lines removed)', () => {
  let dir: string;
  let port: number;
  let broker: ChildProcess | undefined;
  let certificate: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'beckon-broker-conf-'));
    port = await freePort();
    await mkdir(join(dir, 'certs'));
    await mkdir(join(dir, 'data'));

    const generated = await runTool('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      join(dir, 'certs', 'tls.key'),
      '-out',
      join(dir, 'certs', 'tls.crt'),
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    certificate = await readFile(join(dir, 'certs', 'tls.crt'), 'utf8');

    const shipped = await readFile(COMPOSE_CONF, 'utf8');
    const local = shipped
      .split('\n')
      .filter((line) => !line.startsWith('auth_'))
      .map((line) => line.replaceAll('/mosquitto/', `${dir}/`))
      .map((line) => (line === 'listener 8883' ? `listener ${port} 127.0.0.1` : line))
      // Started as root by the tests, Mosquitto would otherwise drop to its own user.
      .concat(['user root']);
    await writeFile(join(dir, 'mosquitto.conf'), local.join('\n'));

    const child = spawn(MOSQUITTO_BIN, ['-c', join(dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    broker = child;
    child.stderr.resume();
    // Its log goes to stdout, which Mosquitto buffers when it is not a terminal: wait for the
    // port instead of a log line.
    await waitForListener(child, port);
  });

  afterAll(async () => {
    if (broker !== undefined && broker.exitCode === null) {
      const exited = once(broker, 'exit');
      broker.kill('SIGTERM');
      await exited;
    }

    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a TLS connection and refuses a client it cannot authenticate', async () => {
    const client = mqtt.connect(`mqtts://localhost:${port}`, {
      ca: certificate,
      username: 'agent-1',
      password: 'not-checked-without-the-plugin',
      reconnectPeriod: 0,
      connectTimeout: BROKER_START_TIMEOUT_MS,
    });

    try {
      const err = await new Promise<Error & { code?: number }>((resolve) => {
        client.once('error', resolve);
      });
      expect(err.code).toBe(5);
      expect(err.message).toMatch(/not authori[sz]ed/i);
    } finally {
      client.end(true);
    }
  });
});
