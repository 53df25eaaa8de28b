import { beforeAll, describe, expect, it } from 'vitest';
import { at, deployPath, readYamlDocuments, type YamlObject } from './helpers.js';

// No Docker engine runs on the CI machines, so `docker compose config` cannot check this
// file; it is parsed (anchors and merge keys resolved) and checked field by field.
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|STORE_URL/i;
const ONLY_A_REFERENCE = /^\$\{[A-Z_]+(:-[^}]*)?\}$/;

describe('deploy/compose.yaml', () => {
  let compose: YamlObject;

  function service(name: string): YamlObject {
    return at(compose, 'services', name) as YamlObject;
  }

  beforeAll(async () => {
    [compose] = (await readYamlDocuments(deployPath('compose.yaml'))) as [YamlObject];
  });

  it('runs the broker, the auth-service and its migration, and postgres only on request', () => {
    expect(Object.keys(at(compose, 'services') as YamlObject).sort()).toEqual([
      'auth-migrate',
      'auth-service',
      'broker',
      'postgres',
    ]);
    expect(service('postgres')['profiles']).toEqual(['postgres']);
    expect(service('broker')['profiles']).toBeUndefined();
    expect(service('auth-service')['profiles']).toBeUndefined();
  });

  it('starts the service after a successful migration and the broker after a healthy service', () => {
    expect(at(service('auth-service'), 'depends_on', 'auth-migrate', 'condition')).toBe(
      'service_completed_successfully',
    );
    expect(at(service('broker'), 'depends_on', 'auth-service', 'condition')).toBe(
      'service_healthy',
    );
    expect(at(service('auth-migrate'), 'depends_on', 'postgres', 'required')).toBe(false);
    expect(service('auth-migrate')['command']).toEqual(['migrate']);
  });

  it('gives the long-running services health checks', () => {
    for (const name of ['broker', 'auth-service', 'postgres']) {
      const test = at(service(name), 'healthcheck', 'test') as string[];
      expect(test[0], name).toBe('CMD');
    }

    expect(at(service('auth-service'), 'healthcheck', 'test')).toEqual(
      expect.arrayContaining([expect.stringContaining('http://127.0.0.1:8183/readyz')]),
    );
  });

  it('raises the file descriptor limits of the broker and the auth-service', () => {
    expect(at(service('broker'), 'ulimits', 'nofile', 'soft')).toBeGreaterThanOrEqual(65_536);
    expect(at(service('auth-service'), 'ulimits', 'nofile', 'soft')).toBeGreaterThanOrEqual(65_536);
  });

  it('keeps data in named volumes and the root filesystems read-only', () => {
    expect(service('broker')['volumes']).toContain('broker-data:/mosquitto/data');
    expect(service('auth-service')['volumes']).toContain('auth-data:/var/lib/beckon-auth');
    expect(service('postgres')['volumes']).toContain('postgres-data:/var/lib/postgresql/data');

    for (const name of ['broker', 'auth-service', 'auth-migrate']) {
      expect(service(name)['read_only'], name).toBe(true);
      expect(service(name)['cap_drop'], name).toEqual(['ALL']);
    }
  });

  it('reaches the broker checks only over an internal network, never a published port', () => {
    expect(at(compose, 'networks', 'checks', 'internal')).toBe(true);
    expect(at(compose, 'networks', 'store', 'internal')).toBe(true);

    const onChecks = Object.entries(at(compose, 'services') as Record<string, YamlObject>)
      .filter(([, definition]) => ((definition['networks'] ?? []) as string[]).includes('checks'))
      .map(([name]) => name)
      .sort();
    expect(onChecks).toEqual(['auth-service', 'broker']);

    const published = (service('auth-service')['ports'] as string[]).join(' ');
    expect(published).not.toContain('8181');
    expect(service('auth-service')['ports']).toContain('127.0.0.1:8182:8182');
  });

  it('holds no secret: credentials come from the environment or deploy/.env', () => {
    for (const [name, definition] of Object.entries(
      at(compose, 'services') as Record<string, YamlObject>,
    )) {
      const environment = (definition['environment'] ?? {}) as Record<string, unknown>;

      for (const [key, value] of Object.entries(environment)) {
        if (SECRET_NAME.test(key)) {
          expect(String(value), `${name}.${key}`).toMatch(ONLY_A_REFERENCE);
        }

        expect(String(value), `${name}.${key}`).not.toMatch(/:\/\/[^/\s$]*:[^/\s]*@/);
      }
    }
  });

  it('pins every image it pulls to a version', () => {
    expect(service('postgres')['image']).toMatch(/^postgres:\d+\.\d+/);

    for (const name of ['broker', 'auth-service']) {
      expect(service(name)['image'], name).toMatch(/^beckon-[a-z]+:\d+\.\d+\.\d+$/);
    }
  });
});

describe('the auth-service config files', () => {
  it('say the same in compose and Kubernetes', async () => {
    const [compose] = await readYamlDocuments(deployPath('auth-service', 'auth.yaml'));
    const [kubernetes] = await readYamlDocuments(
      deployPath('k8s', 'base', 'auth-service', 'auth.yaml'),
    );
    expect(kubernetes).toEqual(compose);
    expect(at(compose, 'listeners', 'broker', 'port')).toBe(8181);
    expect(at(compose, 'listeners', 'admin', 'port')).toBe(8182);
    expect(at(compose, 'listeners', 'public', 'port')).toBe(8183);
  });
});
