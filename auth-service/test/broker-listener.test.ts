import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from './helpers/raw-http.js';
import { startTestService, type TestService } from './helpers/service.js';

// The service's own broker listener, not the one the broker-check tests start: it once took
// the admin listener's settings, so a broker JWT over Node's 16 KiB header default was
// refused with 431 before the checks ever saw it.

const TOKEN_CHARACTERS = 20_000;

describe('the service broker listener', () => {
  let test: TestService;

  beforeAll(async () => {
    test = await startTestService();
  });

  afterAll(async () => {
    await test.close();
  });

  it('reads a request carrying a 20 KiB broker token and answers it', async () => {
    const body = 'topic=a&acc=1&clientid=client id not available';
    const request =
      'POST /acl HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n' +
      `Authorization: Bearer ${'x'.repeat(TOKEN_CHARACTERS)}\r\n` +
      `Content-Length: ${body.length}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n\r\n' +
      body;
    const response = await sendRaw(test.service.ports.broker, request);

    // Not a JWT, so it does not verify: a deny, decided by the checks.
    expect(response.status).toBe(403);
  });
});
