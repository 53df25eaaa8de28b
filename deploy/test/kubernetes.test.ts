import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  at,
  deployPath,
  hasCommand,
  readYamlDocuments,
  runTool,
  type YamlObject,
} from './helpers.js';

// The manifests are checked as files (every machine), and rendered with `kubectl kustomize`
// where kubectl is installed, which is what `kubectl apply -k` would send.
const HAS_KUBECTL = await hasCommand('kubectl');
const K8S = deployPath('k8s');
const OVERLAYS = ['sqlite-single', 'postgres-multi'] as const;
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i;

async function k8sFiles(): Promise<string[]> {
  const entries = await readdir(K8S, { recursive: true });
  return entries
    .filter((entry) => entry.endsWith('.yaml'))
    .map((entry) => deployPath('k8s', entry));
}

async function base(file: string): Promise<YamlObject[]> {
  return readYamlDocuments(deployPath('k8s', 'base', file));
}

function byKindAndName(documents: YamlObject[], kind: string, name: string): YamlObject {
  const found = documents.find(
    (document) => document['kind'] === kind && at(document, 'metadata', 'name') === name,
  );

  if (found === undefined) {
    throw new Error(`no ${kind} ${name}`);
  }

  return found;
}

function containers(workload: YamlObject): YamlObject[] {
  const main = at(workload, 'spec', 'template', 'spec', 'containers') as YamlObject[];
  const init = (at(workload, 'spec', 'template', 'spec', 'initContainers') ?? []) as YamlObject[];
  return [...init, ...main];
}

function envOf(container: YamlObject, name: string): YamlObject | undefined {
  const env = (container['env'] ?? []) as YamlObject[];
  return env.find((entry) => entry['name'] === name);
}

async function render(overlay: string): Promise<YamlObject[]> {
  const result = await runTool('kubectl', ['kustomize', deployPath('k8s', 'overlays', overlay)]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as YamlObject);
}

describe('Kubernetes manifests as files', () => {
  it('all parse as YAML', async () => {
    const files = await k8sFiles();
    expect(files.length).toBeGreaterThan(10);

    for (const file of files) {
      await expect(readYamlDocuments(file), file).resolves.toBeDefined();
    }
  });

  it('probe the auth-service on /healthz and /readyz, with requests and a memory limit', async () => {
    const [deployment] = await base('auth-service/deployment.yaml');
    const [migrate, service] = containers(deployment!);

    expect(at(service, 'startupProbe', 'httpGet', 'path')).toBe('/healthz');
    expect(at(service, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
    expect(at(service, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');

    for (const container of [migrate, service]) {
      expect(at(container, 'resources', 'requests', 'cpu')).toBeDefined();
      expect(at(container, 'resources', 'requests', 'memory')).toBeDefined();
      expect(at(container, 'resources', 'limits', 'memory')).toBeDefined();
      expect(at(container, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
      expect(at(container, 'securityContext', 'allowPrivilegeEscalation')).toBe(false);
      expect(at(container, 'securityContext', 'capabilities', 'drop')).toEqual(['ALL']);
    }

    expect(at(deployment, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(
      true,
    );
  });

  it('give every auth-service listener its own Service', async () => {
    const services = await base('auth-service/services.yaml');
    const ports = services.map((service) => [
      at(service, 'metadata', 'name'),
      at(service, 'spec', 'type'),
      at(service, 'spec', 'ports', 0, 'port'),
    ]);

    expect(ports).toEqual([
      ['beckon-auth-checks', 'ClusterIP', 8181],
      ['beckon-auth-admin', 'ClusterIP', 8182],
      ['beckon-auth-public', 'ClusterIP', 8183],
    ]);
  });

  it('run one broker, replaced with Recreate, with its config from a ConfigMap', async () => {
    const [broker] = await base('broker/deployment.yaml');
    const [mosquitto] = containers(broker!);

    expect(at(broker, 'spec', 'replicas')).toBe(1);
    expect(at(broker, 'spec', 'strategy', 'type')).toBe('Recreate');
    expect(at(mosquitto, 'readinessProbe', 'tcpSocket', 'port')).toBe('mqtts');
    expect(at(mosquitto, 'livenessProbe', 'tcpSocket', 'port')).toBe('mqtts');
    expect(at(mosquitto, 'resources', 'requests', 'memory')).toBeDefined();
    expect(at(mosquitto, 'resources', 'limits', 'memory')).toBeDefined();

    const volumes = at(broker, 'spec', 'template', 'spec', 'volumes') as YamlObject[];
    expect(volumes).toContainEqual({ name: 'config', configMap: { name: 'beckon-broker-config' } });
    const certs = volumes.find((volume) => volume['name'] === 'certs');
    expect(at(certs, 'secret', 'secretName')).toBe('beckon-broker-tls');
  });

  it('have a PodDisruptionBudget for the auth-service', async () => {
    const [pdb] = await base('auth-service/pdb.yaml');
    expect(pdb!['kind']).toBe('PodDisruptionBudget');
    expect(at(pdb, 'spec', 'maxUnavailable')).toBe(1);
    expect(at(pdb, 'spec', 'selector', 'matchLabels')).toEqual({
      'app.kubernetes.io/name': 'beckon-auth',
    });
  });

  it('let only the broker reach the checks and only labelled operators the admin API', async () => {
    const policies = await base('network-policies.yaml');
    const denyAll = byKindAndName(policies, 'NetworkPolicy', 'beckon-default-deny-ingress');
    expect(at(denyAll, 'spec', 'podSelector')).toEqual({});
    expect(at(denyAll, 'spec', 'ingress')).toBeUndefined();

    const auth = byKindAndName(policies, 'NetworkPolicy', 'beckon-auth-service-ingress');
    const rules = at(auth, 'spec', 'ingress') as YamlObject[];
    const rule = (port: number): YamlObject | undefined =>
      rules.find((candidate) => at(candidate, 'ports', 0, 'port') === port);

    expect(at(rule(8181), 'from')).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'beckon-broker' } } },
    ]);
    expect(at(rule(8182), 'from')).toEqual([
      { namespaceSelector: { matchLabels: { 'beckon.io/admin-access': 'true' } } },
      { podSelector: { matchLabels: { 'beckon.io/admin-access': 'true' } } },
    ]);
    // The public listener is open to everyone: no `from` at all.
    expect(at(rule(8183), 'from')).toBeUndefined();
    expect(rules).toHaveLength(3);
  });

  it('keep SQLite single: one replica, Recreate, a volume claim', async () => {
    const [patch] = await readYamlDocuments(
      deployPath('k8s', 'overlays', 'sqlite-single', 'auth-service.yaml'),
    );
    expect(at(patch, 'spec', 'replicas')).toBe(1);
    expect(at(patch, 'spec', 'strategy', 'type')).toBe('Recreate');
    expect(at(patch, 'spec', 'template', 'spec', 'volumes', 0, 'persistentVolumeClaim')).toEqual({
      claimName: 'beckon-auth-data',
    });
  });

  it('run PostgreSQL multi with at least two replicas and the store URL from a Secret', async () => {
    const [patch] = await readYamlDocuments(
      deployPath('k8s', 'overlays', 'postgres-multi', 'auth-service.yaml'),
    );
    expect(at(patch, 'spec', 'replicas')).toBeGreaterThanOrEqual(2);
    expect(at(patch, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable')).toBe(0);

    for (const container of containers(patch!)) {
      expect(at(envOf(container, 'BECKON_AUTH_STORE_URL'), 'valueFrom', 'secretKeyRef')).toEqual({
        name: 'beckon-auth-store',
        key: 'url',
      });
    }
  });

  it('commit no secret: no Secret objects, secret-looking variables only by reference', async () => {
    for (const file of await k8sFiles()) {
      for (const document of await readYamlDocuments(file)) {
        expect(document['kind'], file).not.toBe('Secret');
        const workloadContainers =
          at(document, 'spec', 'template', 'spec', 'containers') === undefined
            ? []
            : containers(document);

        for (const container of workloadContainers) {
          for (const entry of (container['env'] ?? []) as YamlObject[]) {
            const name = String(entry['name']);
            const value = entry['value'] as string | undefined;

            if (SECRET_NAME.test(name)) {
              expect(value, `${file} ${name}`).toBeUndefined();
            }

            // A URL with credentials in it is a secret whatever the variable is called.
            expect(value ?? '', `${file} ${name}`).not.toMatch(/:\/\/[^/\s]*:[^/\s]*@/);
          }
        }
      }
    }
  });
});

describe.runIf(HAS_KUBECTL)('Kubernetes overlays rendered by kubectl kustomize', () => {
  it.each(OVERLAYS)('%s renders every object the deployment needs', async (overlay) => {
    const documents = await render(overlay);
    const kinds = documents.map(
      (document) => `${String(document['kind'])}/${String(at(document, 'metadata', 'name'))}`,
    );

    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/beckon',
        'Deployment/beckon-broker',
        'Deployment/beckon-auth',
        'Service/beckon-broker',
        'Service/beckon-auth-checks',
        'Service/beckon-auth-admin',
        'Service/beckon-auth-public',
        'PodDisruptionBudget/beckon-auth',
        'NetworkPolicy/beckon-default-deny-ingress',
        'NetworkPolicy/beckon-auth-service-ingress',
        'NetworkPolicy/beckon-broker-ingress',
      ]),
    );

    for (const document of documents.filter((candidate) => candidate['kind'] !== 'Namespace')) {
      expect(at(document, 'metadata', 'namespace'), kinds.join()).toBe('beckon');
    }
  });

  it.each(OVERLAYS)('%s names images with a version, never latest', async (overlay) => {
    const documents = await render(overlay);
    const images = documents
      .filter((document) => document['kind'] === 'Deployment')
      .flatMap((deployment) =>
        containers(deployment).map((container) => String(container['image'])),
      );

    expect(images.length).toBeGreaterThan(0);

    for (const image of images) {
      expect(image).toMatch(/^[a-z0-9.-]+\/[a-z0-9/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('sqlite-single mounts its store from the claim it creates', async () => {
    const documents = await render('sqlite-single');
    const auth = byKindAndName(documents, 'Deployment', 'beckon-auth');
    const volumes = at(auth, 'spec', 'template', 'spec', 'volumes') as YamlObject[];
    const data = volumes.find((volume) => volume['name'] === 'data');

    expect(data).toEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: 'beckon-auth-data' },
    });
    expect(byKindAndName(documents, 'PersistentVolumeClaim', 'beckon-auth-data')).toBeDefined();
    expect(at(auth, 'spec', 'replicas')).toBe(1);
  });

  it('postgres-multi keeps the probes of the base and reads the store URL from the Secret', async () => {
    const documents = await render('postgres-multi');
    const auth = byKindAndName(documents, 'Deployment', 'beckon-auth');
    const [migrate, service] = containers(auth);

    expect(at(service, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
    expect(at(envOf(migrate!, 'BECKON_AUTH_STORE_URL'), 'valueFrom', 'secretKeyRef', 'name')).toBe(
      'beckon-auth-store',
    );
    expect(at(envOf(service!, 'BECKON_AUTH_CONFIG'), 'value')).toBe('/etc/beckon/auth.yaml');
    expect(at(auth, 'spec', 'replicas')).toBeGreaterThanOrEqual(2);
  });
});
