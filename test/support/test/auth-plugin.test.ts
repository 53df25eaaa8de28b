import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authPluginConfig, buildAuthPlugin, startMosquitto } from '../src/index.js';

describe('buildAuthPlugin', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'beckon-auth-plugin-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a plugin that Mosquitto loads', async () => {
    const pluginPath = await buildAuthPlugin(dir);
    const broker = await startMosquitto({
      allowAnonymous: false,
      extraConfig: authPluginConfig({ pluginPath, mode: 'plug', port: 1 }),
    });

    try {
      expect(broker.log()).toContain('beckon-test-auth: asking in mode plug');
    } finally {
      await broker.dispose();
    }
  });

  it('names the missing compiler', async () => {
    await expect(buildAuthPlugin(dir, { compiler: '/nonexistent/cc' })).rejects.toThrow(
      /no C compiler "\/nonexistent\/cc"/,
    );
  });

  it.each([
    ['a port out of range', { http_port: 70_000 }, /plugin_opt_http_port must be a whole number/],
    ['a host name for the address', { http_host: 'localhost' }, /plugin_opt_http_host must be/],
    ['an unknown option', { http_ip: '127.0.0.1' }, /unknown option plugin_opt_http_ip/],
    ['a plug-only option in go-auth mode', { http_retry_count: 1 }, /is not read in mode go-auth/],
  ])('stops the broker at start-up on %s, naming the option', async (_what, options, message) => {
    const pluginPath = await buildAuthPlugin(dir);
    const started = startMosquitto({
      allowAnonymous: false,
      extraConfig: authPluginConfig({ pluginPath, mode: 'go-auth', port: 1, options }),
    });

    await expect(started).rejects.toThrow(message);
  });
});
