import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpGetOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** A longer body is an error, and reading stops there. */
  readonly maxBytes: number;
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * One GET with node:http(s), answering the status and the body as text; redirects are not
 * followed (a 3xx is just its status). The running agent asks the auth-service for its trust
 * once an hour, and `fetch` would load undici for that: about 11 MiB of the idle daemon's
 * memory (footprint benchmark).
 */
export function httpGet(url: URL, options: HttpGetOptions): Promise<HttpAnswer> {
  const send =
    url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;

  if (send === undefined) {
    return Promise.reject(new Error(`cannot GET a ${url.protocol} url`));
  }

  return new Promise((resolve, reject) => {
    const onAnswer = (request: ClientRequest, response: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLong = false;

      response.on('data', (chunk: Buffer) => {
        size += chunk.length;

        if (size > options.maxBytes) {
          tooLong = true;
          reject(new Error(`the answer is longer than ${options.maxBytes} bytes`));
          request.destroy();
          return;
        }

        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        // Destroying the request can still end the response with what was read so far.
        if (tooLong) {
          return;
        }

        resolve({
          status: response.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    };
    const request = send(
      url,
      {
        method: 'GET',
        headers: options.headers,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response) => {
        onAnswer(request, response);
      },
    );

    request.on('error', reject);
    request.end();
  });
}
