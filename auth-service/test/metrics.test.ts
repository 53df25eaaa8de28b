import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { PlugClient } from '../src/plug-client/plug-client.js';
import { MemoryDirectory } from './helpers/memory-directory.js';
import { startChecks, type RunningChecks } from './helpers/start-checks.js';

describe('the Prometheus registry', () => {
  it('renders counters with labels in the text exposition format', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('demo_total', 'A demo counter.', ['kind']);
    counter.labels('a').inc();
    counter.labels('a').inc(2);
    counter.labels('quote"back\\slash\nline').inc();

    expect(registry.render()).toBe(
      [
        '# HELP demo_total A demo counter.',
        '# TYPE demo_total counter',
        'demo_total{kind="a"} 3',
        'demo_total{kind="quote\\"back\\\\slash\\nline"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', () => {
    const registry = new MetricsRegistry();
    const histogram = registry.histogram('demo_seconds', 'A demo histogram.', [0.1, 1]);
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(5);

    expect(registry.render()).toBe(
      [
        '# HELP demo_seconds A demo histogram.',
        '# TYPE demo_seconds histogram',
        'demo_seconds_bucket{le="0.1"} 1',
        'demo_seconds_bucket{le="1"} 2',
        'demo_seconds_bucket{le="+Inf"} 3',
        'demo_seconds_sum 5.55',
        'demo_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('gives the same counter for the same name, and refuses a clash or a bad name', () => {
    const registry = new MetricsRegistry();
    const first = registry.counter('x_total', 'X.', ['a']);

    expect(registry.counter('x_total', 'X.', ['a'])).toBe(first);
    expect(() => registry.counter('x_total', 'X.', ['b'])).toThrow(/another shape/);
    expect(() => registry.counter('bad name', 'X.')).toThrow(/not a valid/);
    expect(() => registry.counter('y_total', 'Y.', ['le'])).toThrow(/not allowed/);
    expect(() => first.labels('a').inc(-1)).toThrow(/only goes up/);
  });
});

describe('broker-check metrics', () => {
  let service: RunningChecks;

  beforeAll(async () => {
    const directory = new MemoryDirectory({
      principals: [{ id: 'agent-a', kind: 'agent', secret: 'agent-secret' }],
    });
    service = await startChecks(directory);
  });

  afterAll(async () => {
    await service.close();
  });

  it('count checks by endpoint, backend and outcome, and time them', async () => {
    const plug = new PlugClient({ backend: 'http', ip: '127.0.0.1', port: service.port });

    expect(await plug.authenticate('agent-a', 'agent-secret')).toBe('yes');
    // The decision cache keeps an answer when its check comes a second time: the third is a hit.
    for (let round = 0; round < 3; round += 1) {
      expect(await plug.checkAcl('agent-a', 'beckon/v1/agents/agent-a/commands', 4)).toBe('yes');
    }
    expect(await plug.checkAcl('agent-a', 'beckon/v1/agents/agent-b/commands', 4)).toBe('no');

    const text = service.metrics.render();

    expect(text).toContain(
      'beckon_auth_broker_checks_total{endpoint="auth",backend="plug-http",outcome="allow"} 1',
    );
    expect(text).toContain(
      'beckon_auth_broker_checks_total{endpoint="superuser",backend="plug-http",outcome="deny"} 4',
    );
    expect(text).toContain(
      'beckon_auth_broker_checks_total{endpoint="acl",backend="plug-http",outcome="allow"} 3',
    );
    expect(text).toContain(
      'beckon_auth_broker_checks_total{endpoint="acl",backend="plug-http",outcome="deny"} 1',
    );
    expect(text).toContain(
      'beckon_auth_broker_cache_requests_total{cache="decision",result="hit"} 1',
    );
    expect(text).toContain(
      'beckon_auth_broker_cache_requests_total{cache="decision",result="miss"} 3',
    );
    expect(text).toContain('beckon_auth_broker_check_duration_seconds_count{endpoint="acl"} 4');
  });
});
