import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { BadRequest } from '../bad-request.js';
import type { BrokerChecks, BrokerRoute } from '../broker-checks.js';
import type { CheckHeaders } from '../check-request.js';
import { FAULT, statusAnswer, type CheckAnswer } from '../replies.js';
import { CONTINUE_BYTES, type AnswerBytes } from './answer-bytes.js';
import { ByteQueue } from './byte-queue.js';
import {
  bodyLength,
  expectsContinue,
  keepsAlive,
  parseHeaderFields,
  type RequestFields,
} from './header-fields.js';
import type { WireLimits } from './limits.js';
import { parseRequestLine } from './request-line.js';

/** What the lean listener needs of the broker checks. */
export type WireChecks = Pick<BrokerChecks, 'route' | 'check'> & {
  readonly options: { readonly maxBodyBytes: number };
};

/** What every connection of one listener shares. */
export interface WireContext {
  readonly checks: WireChecks;
  readonly limits: WireLimits;
  readonly answers: AnswerBytes;
  readonly logger: Logger;
  /** Gives a connection whose next request is not a broker check to node:http. */
  readonly handOff: (socket: Socket) => void;
  /** The open connections (a connection leaves when its socket closes or is handed off). */
  readonly connections: Set<WireConnection>;
}

/** An answer waiting for the ones before it (pipelined requests are answered in order). */
interface Pending {
  answer: CheckAnswer | undefined;
  readonly keepAlive: boolean;
  readonly http10: boolean;
}

/** A request whose head is read and whose body is still arriving. */
interface Incoming {
  readonly route: BrokerRoute;
  readonly method: string;
  readonly http10: boolean;
  readonly headers: CheckHeaders;
  readonly length: number;
  readonly keepAlive: boolean;
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const EMPTY_BODY = Buffer.alloc(0);
const NO_FIELDS: RequestFields = {
  headers: {},
  contentLength: undefined,
  transferEncoding: undefined,
  connection: undefined,
  expect: undefined,
};
/** Answers one connection may owe at once; a client pipelining more waits for them. */
const MAX_PIPELINED = 16;
/** After our last answer, the peer has this long to close its side before we cut it. */
const CLOSE_GRACE_MS = 1_000;
const TIMED_OUT = 408;
const HEAD_TOO_LARGE = 431;

/**
 * One broker connection: reads requests as they arrive, hands each broker check to the checks
 * and writes the answers in request order, then keeps the connection, closes it or gives it to
 * node:http when a request is not a broker check. Deadlines are checked by the listener's
 * sweep, not by a timer per connection.
 */
export class WireConnection {
  /** `performance.now()` after which `expire` acts. */
  deadline: number;
  readonly #socket: Socket;
  readonly #context: WireContext;
  readonly #bytes = new ByteQueue();
  readonly #queue: Pending[] = [];
  #now: number;
  /** Head bytes already searched for the blank line (a head arriving in pieces). */
  #scanned = 0;
  #requestStarted: number;
  #incoming: Incoming | undefined;
  /** No further request is read: the last answer closes the connection. */
  #ending = false;
  /** A request for node:http waits until every answer before it is written. */
  #handOffWaiting = false;
  /** Answered for the last time, handed off, or gone. */
  #done = false;
  #paused = false;

  constructor(socket: Socket, context: WireContext) {
    this.#socket = socket;
    this.#context = context;
    this.#now = performance.now();
    this.#requestStarted = this.#now;
    this.deadline = this.#now + context.limits.headersTimeoutMs;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** Called by the sweep: enforces the headers, request and keep-alive timeouts. */
  expire(now: number): void {
    if (now < this.deadline) {
      return;
    }

    if (this.#done || this.#queue.length > 0 || !this.#requestUnderWay()) {
      this.#socket.destroy();

      return;
    }

    this.#context.logger.debug({ status: TIMED_OUT }, 'broker request timed out');
    this.#ending = true;
    this.#send(statusAnswer(TIMED_OUT, true), false, false);
  }

  /** The listener closes: no new request; answers under way are still written, then it ends. */
  drain(): void {
    if (this.#done) {
      return;
    }

    this.#ending = true;

    if (this.#queue.length === 0) {
      this.#socket.destroy();

      return;
    }

    this.#updatePause();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done) {
      return;
    }

    this.#now = performance.now();

    if (!this.#requestUnderWay()) {
      this.#requestStarted = this.#now;
    }

    this.#bytes.push(chunk);
    this.#advance();
  };

  // The peer closed its side: whatever it sent last is all there is.
  readonly #onEnd = (): void => {
    if (this.#done) {
      return;
    }

    this.#ending = true;

    if (this.#queue.length === 0) {
      this.#finish(undefined);
    }
  };

  // A reset or a broken pipe is the peer's business: nothing to answer, nothing to report.
  readonly #onError = (error: Error): void => {
    this.#done = true;
    this.#context.logger.debug({ err: error }, 'broker connection failed');
    this.#socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#done = true;
    this.#queue.length = 0;
    this.#context.connections.delete(this);
  };

  #requestUnderWay(): boolean {
    return this.#bytes.length > 0 || this.#incoming !== undefined;
  }

  #reading(): boolean {
    return (
      !this.#done && !this.#ending && !this.#handOffWaiting && this.#queue.length < MAX_PIPELINED
    );
  }

  #advance(): void {
    while (this.#reading()) {
      const progressed = this.#incoming === undefined ? this.#readHead() : this.#readBody();

      if (!progressed) {
        break;
      }
    }

    this.#updateDeadline();
    this.#updatePause();
  }

  #readHead(): boolean {
    if (this.#bytes.length === 0) {
      return false;
    }

    const { maxHeaderBytes } = this.#context.limits;
    const view = this.#bytes.view();
    const end = view.indexOf(HEAD_END, this.#scanned);

    if (end === -1) {
      if (view.length > maxHeaderBytes) {
        this.#refuse(HEAD_TOO_LARGE, 'the request head is too large');
      } else if (hasBareLineFeed(view, this.#scanned)) {
        this.#refuse(400, 'a line of the request head ends in a bare LF');
      } else {
        this.#scanned = Math.max(0, view.length - HEAD_END.length + 1);
      }

      return false;
    }

    this.#scanned = 0;

    if (end + HEAD_END.length > maxHeaderBytes) {
      this.#refuse(HEAD_TOO_LARGE, 'the request head is too large');

      return false;
    }

    const head = view.toString('latin1', 0, end);
    const lineEnd = head.indexOf('\r\n');
    const line = parseRequestLine(head, lineEnd === -1 ? head.length : lineEnd);

    if ('problem' in line) {
      this.#refuse(line.status, line.problem);

      return false;
    }

    const route = this.#context.checks.route(line.target);

    if (route === undefined) {
      this.#handOff();

      return false;
    }

    this.#bytes.take(end + HEAD_END.length);
    const fields = lineEnd === -1 ? NO_FIELDS : parseHeaderFields(head, lineEnd + 2);

    if (fields instanceof BadRequest) {
      this.#dispatch(route, line.method, line.http10, {}, fields, false);

      return true;
    }

    const keepAlive = keepsAlive(fields.connection, line.http10);
    // A method the route refuses is answered 405 without its body: the connection closes.
    const length = route.methods.has(line.method)
      ? bodyLength(line.method, fields, this.#context.checks.options.maxBodyBytes)
      : 0;
    const expect = expectsContinue(fields);
    const problem =
      length instanceof BadRequest ? length : expect instanceof BadRequest ? expect : undefined;

    if (problem !== undefined) {
      this.#dispatch(route, line.method, line.http10, fields.headers, problem, false);

      return true;
    }

    if (length === 0 || length instanceof BadRequest) {
      this.#dispatch(route, line.method, line.http10, fields.headers, EMPTY_BODY, keepAlive);

      return true;
    }

    this.#incoming = {
      route,
      method: line.method,
      http10: line.http10,
      headers: fields.headers,
      length,
      keepAlive,
    };

    // Only when nothing is owed before it: an interim answer must not overtake a final one.
    if (
      expect === true &&
      !line.http10 &&
      this.#bytes.length < length &&
      this.#queue.length === 0
    ) {
      this.#socket.write(CONTINUE_BYTES);
    }

    return true;
  }

  #readBody(): boolean {
    const incoming = this.#incoming;

    if (incoming === undefined || this.#bytes.length < incoming.length) {
      return false;
    }

    const body = this.#bytes.take(incoming.length);
    this.#incoming = undefined;
    this.#dispatch(
      incoming.route,
      incoming.method,
      incoming.http10,
      incoming.headers,
      body,
      incoming.keepAlive,
    );

    return true;
  }

  #dispatch(
    route: BrokerRoute,
    method: string,
    http10: boolean,
    headers: CheckHeaders,
    body: Buffer | BadRequest,
    keepAlive: boolean,
  ): void {
    const started = this.#requestStarted;
    // A pipelined request behind this one started arriving with it.
    this.#requestStarted = this.#now;

    if (!keepAlive) {
      this.#ending = true;
    }

    let answer: CheckAnswer | Promise<CheckAnswer>;

    try {
      answer = this.#context.checks.check(route, {
        method,
        headers,
        body,
        peer: this.#socket,
        started,
      });
    } catch (error) {
      answer = this.#fault(error);
    }

    if (answer instanceof Promise) {
      const pending: Pending = { answer: undefined, keepAlive, http10 };
      this.#queue.push(pending);
      answer.then(
        (settled) => {
          pending.answer = settled;
          this.#flush();
        },
        (error: unknown) => {
          pending.answer = this.#fault(error);
          this.#flush();
        },
      );

      return;
    }

    if (answer.close) {
      this.#ending = true;
    }

    if (this.#queue.length === 0) {
      this.#send(answer, keepAlive, http10);
    } else {
      this.#queue.push({ answer, keepAlive, http10 });
    }
  }

  // The checks never throw or reject; should they, the broker gets an error, not silence.
  #fault(error: unknown): CheckAnswer {
    this.#context.logger.error({ err: error }, 'broker check threw');

    return statusAnswer(FAULT, true);
  }

  // Writes what is answered, in order, as far as the first answer still being worked out.
  #flush(): void {
    if (this.#done) {
      return;
    }

    let first = this.#queue[0];

    while (first?.answer !== undefined) {
      this.#queue.shift();

      if (!this.#send(first.answer, first.keepAlive, first.http10)) {
        return;
      }

      first = this.#queue[0];
    }

    if (this.#queue.length === 0 && this.#handOffWaiting) {
      this.#handOff();

      return;
    }

    if (this.#queue.length === 0 && this.#ending) {
      this.#finish(undefined);

      return;
    }

    this.#now = performance.now();
    this.#advance();
  }

  /** Writes one answer; false when it was the last (the connection is ending). */
  #send(answer: CheckAnswer, keepAlive: boolean, http10: boolean): boolean {
    const close = answer.close || !keepAlive || (this.#ending && this.#queue.length === 0);
    const bytes = this.#context.answers.bytes(answer, close, http10 && !close);

    if (close) {
      this.#finish(bytes);

      return false;
    }

    this.#socket.write(bytes);

    return true;
  }

  // The last answer: our side ends, and the peer gets a grace period to end its own.
  #finish(bytes: Buffer | undefined): void {
    this.#done = true;
    this.#queue.length = 0;
    this.#incoming = undefined;
    this.#bytes.clear();
    if (bytes === undefined) {
      this.#socket.end();
    } else {
      this.#socket.end(bytes);
    }

    this.deadline = performance.now() + CLOSE_GRACE_MS;
    this.#updatePause();
  }

  // A head that cannot be read at all: refused, in turn, and the connection closes.
  #refuse(status: 400 | 431 | 505, problem: string): void {
    this.#context.logger.debug({ status, problem }, 'broker request refused');
    this.#ending = true;
    this.#bytes.clear();
    this.#incoming = undefined;
    const answer = statusAnswer(status, true);

    if (this.#queue.length === 0) {
      this.#send(answer, false, false);
    } else {
      this.#queue.push({ answer, keepAlive: false, http10: false });
    }
  }

  // node:http takes the connection from this request on, so it reads it from its first byte.
  #handOff(): void {
    if (this.#queue.length > 0) {
      this.#handOffWaiting = true;

      return;
    }

    const socket = this.#socket;
    const rest = this.#bytes.view();
    this.#done = true;
    this.#bytes.clear();
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    this.#context.connections.delete(this);

    // A peer that already closed its side cannot be read again: nothing to hand over.
    if (socket.readableEnded) {
      socket.destroy();

      return;
    }

    if (rest.length > 0) {
      socket.unshift(rest);
    }

    this.#context.handOff(socket);

    // node:http reads a flowing socket; one paused while answers were owed is resumed.
    if (this.#paused) {
      this.#paused = false;
      socket.resume();
    }
  }

  #updateDeadline(): void {
    if (this.#done) {
      return;
    }

    const limits = this.#context.limits;

    if (this.#incoming !== undefined) {
      this.deadline = this.#requestStarted + limits.requestTimeoutMs;
    } else if (this.#bytes.length > 0) {
      this.deadline = this.#requestStarted + limits.headersTimeoutMs;
    } else if (this.#queue.length > 0 || this.#handOffWaiting) {
      this.deadline = Number.POSITIVE_INFINITY;
    } else {
      this.deadline = this.#now + limits.keepAliveTimeoutMs;
    }
  }

  // Reading stops while nothing read could be acted on; a finished connection reads (and
  // drops) what still comes, so the peer's close is seen.
  #updatePause(): void {
    const pause = !this.#done && !this.#reading();

    if (pause && !this.#paused) {
      this.#socket.pause();
      this.#paused = true;
    } else if (!pause && this.#paused) {
      this.#socket.resume();
      this.#paused = false;
    }
  }
}

// Every line of a request head ends in CRLF; a lone LF is refused rather than guessed at.
function hasBareLineFeed(bytes: Buffer, from: number): boolean {
  let at = bytes.indexOf(LF, from);

  while (at !== -1) {
    if (at === 0 || bytes[at - 1] !== CR) {
      return true;
    }

    at = bytes.indexOf(LF, at + 1);
  }

  return false;
}
