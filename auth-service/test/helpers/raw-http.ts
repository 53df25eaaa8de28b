import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

const HEAD_END = '\r\n\r\n';

/**
 * Sends bytes exactly as given on a new TCP connection (as the plug does) and reads one
 * response. The connection is closed once the response is complete.
 */
export function sendRaw(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    let received = Buffer.alloc(0);

    const finish = (error: Error | undefined, response?: RawResponse): void => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();

      if (response !== undefined) {
        resolve(response);
      } else {
        reject(error ?? new Error('the connection closed before a response'));
      }
    };

    socket.on('connect', () => socket.write(request));
    socket.on('error', (error) => finish(error));
    socket.on('close', () => {
      const response = parse(received);
      finish(undefined, response ?? undefined);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = parse(received);

      if (response !== undefined) {
        finish(undefined, response);
      }
    });
  });
}

function parse(data: Buffer): RawResponse | undefined {
  const text = data.toString('latin1');
  const headEnd = text.indexOf(HEAD_END);

  if (headEnd === -1) {
    return undefined;
  }

  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Map(
    lines.map((line) => {
      const colon = line.indexOf(':');

      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
    }),
  );
  const length = Number(headers.get('content-length') ?? '0');
  const body = data.subarray(Buffer.byteLength(text.slice(0, headEnd), 'latin1') + 4);

  if (body.length < length) {
    return undefined;
  }

  return { status, headers, body: body.subarray(0, length).toString('utf8') };
}

/** A request as the captures list it: request line, headers in order, body. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly http_version: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

/** The wire bytes of a captured request (the captures store LF; the wire has CRLF). */
export function wireBytes(request: CapturedRequest): Buffer {
  const head = [
    `${request.method} ${request.path} ${request.http_version}`,
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n');

  return Buffer.concat([
    Buffer.from(`${head}\r\n\r\n`, 'latin1'),
    Buffer.from(request.body, 'utf8'),
  ]);
}
