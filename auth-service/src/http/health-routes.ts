import type { Router } from './router.js';

/** Whether the service can answer: the store is reachable and a snapshot is loaded. */
export type ReadinessCheck = () => Promise<boolean>;

/** `/healthz`: the process is alive. `/readyz`: it can do its job. */
export function registerHealthRoutes(router: Router, ready: ReadinessCheck): void {
  router.add('GET', '/healthz', () => Promise.resolve({ status: 200, body: { status: 'ok' } }));
  router.add('GET', '/readyz', async () =>
    (await ready())
      ? { status: 200, body: { status: 'ready' } }
      : { status: 503, body: { status: 'not ready' } },
  );
}
