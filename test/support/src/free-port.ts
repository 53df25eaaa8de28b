import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1. For servers such as Mosquitto that cannot
 * listen on port 0 and report back; a race with another process is possible but rare.
 */
export async function freePort(): Promise<number> {
  const server = createServer();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));

  if (address === null || typeof address === 'string') {
    throw new Error('could not read the port of a temporary listener');
  }

  return address.port;
}
