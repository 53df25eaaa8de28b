import { describe, expect, it } from 'vitest';
import { execaLoaded } from '../src/actions/run-program.js';
import { createActionRunner } from '../src/index.js';
import { action, captureLogger, request } from './fixtures/actions.js';

// execa holds about 4 MiB; an agent that only answers built-ins (or sits idle) never loads it.
describe('the action runner', () => {
  it('loads execa on the first spawned action, not when it is created', async () => {
    const runner = createActionRunner({
      limits: { maxConcurrent: 1, maxQueued: 1, killGraceSeconds: 1 },
      logger: captureLogger().logger,
    });

    expect(execaLoaded()).toBe(false);

    const echo = action({ description: 'Says hi', argv: ['/bin/echo', 'hi'] });
    const outcome = await runner.run(request('echo', echo).request);

    expect(outcome).toMatchObject({ outcome: 'succeeded', output: { stdout: 'hi\n' } });
    expect(execaLoaded()).toBe(true);
  });
});
