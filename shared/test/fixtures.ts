import type { Command, Result, Status } from '../src/index.js';

// Valid messages that each test bends in one place, so a failure names exactly one problem.

export function validCommand(): Command {
  return {
    kind: 'command',
    id: 'cmd-0001-abcdef',
    agentId: 'web-01',
    action: 'restart-service',
    args: { unit: 'nginx', force: true, retries: 3 },
    issuer: 'deployer',
    issuedAt: '2026-12-03T10:00:00.000Z',
    expiresAt: '2026-12-03T10:05:00.000Z',
  };
}

export function validResult(): Result {
  return {
    kind: 'result',
    commandId: 'cmd-0001-abcdef',
    agentId: 'web-01',
    action: 'restart-service',
    outcome: 'succeeded',
    exitCode: 0,
    output: { stdout: 'ok\n', stderr: '', truncated: false },
    timings: {
      receivedAt: '2026-12-03T10:00:00.010Z',
      startedAt: '2026-12-03T10:00:00.020Z',
      finishedAt: '2026-12-03T10:00:01.020Z',
      durationMs: 1_000,
    },
  };
}

export function validStatus(): Status {
  return {
    kind: 'status',
    agentId: 'web-01',
    state: 'online',
    version: '0.1.0',
    startedAt: '2026-12-03T09:00:00.000Z',
    at: '2026-12-03T09:00:00.100Z',
    host: {
      hostname: 'web-01',
      platform: 'linux',
      arch: 'x64',
      release: '6.1.0',
      node: 'v20.19.0',
    },
    catalogue: [
      { name: 'ping', description: 'Answers at once.', args: {}, builtIn: true },
      {
        name: 'restart-service',
        description: 'Restarts one allowed unit.',
        args: {
          unit: { type: 'string', enum: ['nginx', 'postgresql'] },
          force: { type: 'boolean', required: false },
          retries: { type: 'integer', min: 0, max: 5, required: false },
        },
      },
    ],
  };
}
