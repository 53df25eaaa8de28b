import type { IncomingMessage } from 'node:http';
import { BadRequest } from './bad-request.js';

const EMPTY = Buffer.alloc(0);

/**
 * Reads a request body of at most `maxBytes`. A declared or actual length above it is a 413
 * before anything more is buffered. Most plugin bodies arrive in one chunk, which is returned
 * without a copy.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = request.headers['content-length'];

  if (declared !== undefined && !/^\d{1,10}$/.test(declared)) {
    return Promise.reject(new BadRequest('Content-Length is not a number'));
  }

  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const onData = (chunk: Buffer): void => {
      length += chunk.length;

      if (length > maxBytes) {
        cleanup();
        request.resume();
        reject(tooLarge(maxBytes));

        return;
      }

      chunks.push(chunk);
    };

    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] ?? EMPTY) : Buffer.concat(chunks, length));
    };

    const onError = (error?: Error): void => {
      cleanup();
      reject(new BadRequest('the request body was cut off', { cause: error }));
    };

    // A peer that goes away mid-body closes the request before 'end'.
    const onClose = (): void => {
      if (!request.complete) {
        onError();
      }
    };

    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('close', onClose);
    };

    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('close', onClose);
  });
}

function tooLarge(maxBytes: number): BadRequest {
  return new BadRequest(`the body is larger than ${maxBytes} bytes`, { status: 413 });
}
