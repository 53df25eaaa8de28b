import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ApiError } from './api-error.js';
import { readJsonBody, sendError, sendJson } from './json-io.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The peer's address; the key for rate limits and login throttling. */
  readonly remoteAddress: string;
  body(): Promise<unknown>;
}

export type Reply =
  | { readonly status: number; readonly body: unknown; readonly headers?: Record<string, string> }
  | { readonly status: number; readonly raw: Buffer; readonly contentType: string }
  | {
      readonly status: number;
      readonly stream: Readable;
      readonly size: number;
      readonly contentType: string;
    };

export type Handler = (context: RequestContext) => Promise<Reply>;

interface Route {
  readonly method: Method;
  readonly segments: readonly string[];
  readonly handler: Handler;
}

const MAX_URL_LENGTH = 4_096;

function decodeSegments(pathname: string): string[] {
  try {
    return pathname
      .slice(1)
      .split('/')
      .map((segment) => decodeURIComponent(segment));
  } catch (error) {
    throw new ApiError('bad_request', 'path is not valid percent-encoding', { cause: error });
  }
}

function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) {
    return undefined;
  }

  const params: Record<string, string> = {};

  for (const [index, part] of pattern.entries()) {
    const actual = path[index] ?? '';

    if (part.startsWith(':')) {
      params[part.slice(1)] = actual;
    } else if (part !== actual) {
      return undefined;
    }
  }

  return params;
}

export interface RouterOptions {
  /** Runs ahead of routing (e.g. a rate limit) and refuses by throwing an ApiError. */
  readonly before?: (req: IncomingMessage) => void;
  /** Told the status of every answer, so errors show in /metrics and not only in the log. */
  readonly onAnswer?: (status: number) => void;
}

/**
 * A small method + path router: `:name` segments become params (percent-decoded, validated by
 * each handler), unknown paths answer 404, known paths with another method 405.
 */
export class Router {
  readonly #routes: Route[] = [];
  readonly #logger: Logger;
  readonly #options: RouterOptions;

  constructor(logger: Logger, options: RouterOptions = {}) {
    this.#logger = logger;
    this.#options = options;
  }

  add(method: Method, pattern: string, handler: Handler): this {
    this.#routes.push({ method, segments: pattern.slice(1).split('/'), handler });

    return this;
  }

  /** Answers one request; never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.#options.before?.(req);
      const reply = await this.#dispatch(req);
      this.#options.onAnswer?.(reply.status);
      await send(res, reply);
    } catch (error) {
      this.#fail(req, res, error);
    }
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      // Mid-answer, typically a client that went away during a download: nothing to tell it.
      this.#logger.debug({ err: error, path: pathOf(req) }, 'response aborted');
      res.destroy();

      return;
    }

    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError('internal_error', 'internal error', { cause: error });

    if (apiError.code === 'internal_error') {
      this.#logger.error({ err: error, method: req.method, path: pathOf(req) }, 'request failed');
    }

    this.#options.onAnswer?.(apiError.status);

    if (apiError.code === 'payload_too_large') {
      // The rest of the body is not read: close rather than leave it in the socket.
      res.setHeader('connection', 'close');
    }

    sendError(res, apiError);
  }

  async #dispatch(req: IncomingMessage): Promise<Reply> {
    const target = req.url ?? '/';

    if (!target.startsWith('/') || target.length > MAX_URL_LENGTH) {
      throw new ApiError('bad_request', 'request target is not a valid path');
    }

    // Appended, not resolved against a base: '//x/...' must stay a path, never become a host.
    const url = new URL(`http://localhost${target}`);
    const path = decodeSegments(url.pathname);
    const allowed: Method[] = [];

    for (const route of this.#routes) {
      const params = matchSegments(route.segments, path);

      if (params === undefined) {
        continue;
      }

      if (route.method !== req.method) {
        allowed.push(route.method);
        continue;
      }

      return route.handler({
        req,
        params,
        query: url.searchParams,
        remoteAddress: req.socket.remoteAddress ?? 'unknown',
        body: () => readJsonBody(req),
      });
    }

    if (allowed.length > 0) {
      throw new ApiError('method_not_allowed', `method ${req.method ?? ''} is not allowed here`, {
        headers: { allow: [...new Set(allowed)].join(', ') },
      });
    }

    throw new ApiError('not_found', 'no such route');
  }
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0] ?? '';
}

async function send(res: ServerResponse, reply: Reply): Promise<void> {
  if ('body' in reply) {
    sendJson(res, reply.status, reply.body, reply.headers);

    return;
  }

  const length = 'raw' in reply ? reply.raw.length : reply.size;

  res.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': length,
    'x-content-type-options': 'nosniff',
  });

  if ('raw' in reply) {
    res.end(reply.raw);
  } else {
    await pipeline(reply.stream, res);
  }
}
