import { Agent, request } from 'node:http';

// Keep-alive: the fuzz suites make tens of thousands of requests and each one's answer is what
// is under test, not connection set-up.
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request with exactly these headers and body bytes (no defaults added). */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent,
      headers: { ...headers, 'content-length': String(body.byteLength) },
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the kept-alive sockets so the test process can end. */
export function closeRawConnections(): void {
  agent.destroy();
}
