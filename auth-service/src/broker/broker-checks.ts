import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { DecisionEngine } from '../decide/decision-engine.js';
import { allow, deny, type CheckAccess, type Decision } from '../decide/decision.js';
import type { DirectorySnapshot, DirectorySource } from '../directory/types.js';
import {
  BrokerMetrics,
  type BrokerBackend,
  type BrokerEndpoint,
  type CheckOutcome,
  type ThrottleScope,
} from '../metrics/broker-metrics.js';
import type { MetricsRegistry } from '../metrics/registry.js';
import { BadRequest } from './bad-request.js';
import { BrokerKeyCheck, type CheckHeaders, type CheckRequest } from './check-request.js';
import { CredentialCache } from './credential-cache.js';
import { DecisionCache } from './decision-cache.js';
import { KeyedSlots } from './keyed-slots.js';
import { parseGoAuthRequest } from './go-auth-request.js';
import { LoginThrottle } from './login-throttle.js';
import { BrokerChecksOptions, type BrokerChecksOptionsInput } from './options.js';
import { parsePlugRequest } from './plug-request.js';
import {
  ALLOWED,
  DENIED,
  FAULT,
  NOT_AUTHORISED,
  goAuthAnswer,
  statusAnswer,
  writeAnswer,
  type CheckAnswer,
} from './replies.js';
import { readBody } from './read-body.js';
import { TokenVerifier } from './token-verifier.js';

const MILLIS_PER_SECOND = 1_000;
const UNKNOWN_SOURCE = 'unknown';
/** A secret change during a slow hash restarts the login once; a second change refuses it. */
const LOGIN_ATTEMPTS = 2;

type Family = 'plug' | 'go-auth';

/** A secret check's result: right or wrong, or the throttle scope that refused to run it. */
type Verification = boolean | ThrottleScope;

/** A secret check under way, shared by concurrent logins with the same credentials. */
interface InFlight {
  /** The directory's secretStamp for the username when the check started. */
  readonly stamp: string | undefined;
  readonly settled: Promise<Verification>;
}

/** What a check needs of its connection: the peer's address, read only for a password login. */
type Peer = CheckInput['peer'];

/** A check's answer and the username it was decided for (for the debug log). */
type Verdict = readonly [string, Decision];

/** Which plugin asks at a URI, and which of its questions. */
export interface BrokerRoute {
  readonly family: Family;
  readonly endpoint: BrokerEndpoint;
  /** The methods the plugin uses for it; any other is a 405. */
  readonly methods: ReadonlySet<string>;
}

const METHODS: Readonly<Record<Family, ReadonlySet<string>>> = {
  plug: new Set(['POST']),
  'go-auth': new Set(['POST', 'GET', 'PUT']),
};
const ALLOW: Readonly<Record<Family, string>> = {
  plug: [...METHODS.plug].join(', '),
  'go-auth': [...METHODS['go-auth']].join(', '),
};
const NOT_FOUND = 404;
const WRONG_METHOD = 405;
const EMPTY_BODY = Buffer.alloc(0);

/** One broker-check request as read off the wire, by node:http or the lean listener. */
export interface CheckInput {
  readonly method: string;
  readonly headers: CheckHeaders;
  /** The whole body, or why it could not be read (too large, no length, cut off). */
  readonly body: Buffer | BadRequest;
  /** The connection it came on: a password login's throttle reads its address. */
  readonly peer: { readonly remoteAddress?: string | undefined };
  /** `performance.now()` when the request's head was read (for the latency histogram). */
  readonly started: number;
}

export interface BrokerChecksDeps {
  readonly directory: DirectorySource;
  /** Parsed with BrokerChecksOptions; omitted keys take their defaults. */
  readonly options?: BrokerChecksOptionsInput;
  readonly logger: Logger;
  /** The process's registry; the broker-check metrics are registered on it. */
  readonly metrics: MetricsRegistry;
  /** Milliseconds since the epoch; tests pass their own clock. */
  readonly now?: () => number;
}

export interface BrokerChecks {
  /** The node:http request handler: any path, a 404 for those that are not broker checks. */
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** The broker check a request target names; undefined when it names none (or after close). */
  route(target: string): BrokerRoute | undefined;
  /**
   * Answers one request for `route`. Synchronous unless a hash or a signature has to be
   * awaited; never rejects (a fault is a 500 answer).
   */
  check(route: BrokerRoute, input: CheckInput): CheckAnswer | Promise<CheckAnswer>;
  /** What the engine decides for this check now, and why (for `beckon-auth explain`). */
  explain(username: string, topic: string, access: CheckAccess): Decision;
  /** Stops following the directory; later requests get a 404. */
  close(): void;
  readonly options: BrokerChecksOptions;
}

/**
 * The broker-facing half of the auth-service: mosquitto-auth-plug (`http`, `jwt`) and
 * mosquitto-go-auth (`http`, remote `jwt`) requests, translated into one decision path and
 * answered from memory.
 */
export function createBrokerChecks(deps: BrokerChecksDeps): BrokerChecks {
  return new BrokerCheckService(deps);
}

class BrokerCheckService implements BrokerChecks {
  readonly options: BrokerChecksOptions;
  readonly #directory: DirectorySource;
  readonly #logger: Logger;
  readonly #metrics: BrokerMetrics;
  readonly #now: () => number;
  readonly #routes = new Map<string, BrokerRoute>();
  readonly #allowed: CheckAnswer;
  readonly #denied: CheckAnswer;
  readonly #enabled: ReadonlySet<BrokerBackend>;
  readonly #brokerKey: BrokerKeyCheck | undefined;
  readonly #credentials: CredentialCache;
  readonly #throttle: LoginThrottle;
  readonly #inflight = new Map<string, InFlight>();
  /** One secret check at a time per username (see #startVerification). */
  readonly #usernameSlots: KeyedSlots;
  readonly #sourceSlots: KeyedSlots;
  readonly #unsubscribe: () => void;
  #engine: DecisionEngine;
  #decisions: DecisionCache;
  #tokens: TokenVerifier;
  #closed = false;

  constructor(deps: BrokerChecksDeps) {
    this.options = Object.freeze(BrokerChecksOptions.parse(deps.options ?? {}));
    this.#directory = deps.directory;
    this.#logger = deps.logger;
    this.#metrics = new BrokerMetrics(deps.metrics);
    this.#now = deps.now ?? Date.now;
    this.#enabled = new Set(this.options.backends);
    this.#brokerKey =
      this.options.brokerKey === undefined ? undefined : new BrokerKeyCheck(this.options.brokerKey);
    this.#credentials = new CredentialCache(
      this.options.cache.credentialTtlMs,
      this.options.cache.credentialEntries,
      this.#now,
    );
    this.#throttle = new LoginThrottle(this.options.throttle, this.#now);
    this.#usernameSlots = new KeyedSlots(1, this.options.throttle.maxWaiting);
    this.#sourceSlots = new KeyedSlots(
      this.options.throttle.sourceConcurrency,
      this.options.throttle.maxWaiting,
    );
    this.#addRoutes();
    this.#allowed = statusAnswer(ALLOWED);
    this.#denied = statusAnswer(DENIED);

    const snapshot = deps.directory.current();
    this.#engine = new DecisionEngine(snapshot);
    this.#decisions = new DecisionCache(this.options.cache.decisionEntries);
    this.#tokens = this.#tokenVerifier(snapshot);
    this.#unsubscribe = deps.directory.onChange((next) => {
      this.#adopt(next);
    });
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const started = performance.now();
    const route = this.route(request.url ?? '');

    if (route === undefined) {
      this.#metrics.unrouted.inc();
      writeAnswer(response, statusAnswer(NOT_FOUND, true));

      return;
    }

    const method = request.method ?? '';
    const { headers, socket: peer } = request;
    // A refused method's body is never read: its answer closes the connection.
    const body = route.methods.has(method)
      ? readBody(request, this.options.maxBodyBytes)
      : Promise.resolve(EMPTY_BODY);

    void body
      .catch((error: unknown) =>
        error instanceof BadRequest ? error : new BadRequest('unreadable body', { cause: error }),
      )
      .then((read) => this.check(route, { method, headers, body: read, peer, started }))
      .then((answer) => {
        writeAnswer(response, answer);
      })
      .catch((error: unknown) => {
        this.#logger.error({ err: error }, 'broker answer could not be written');
        response.destroy();
      });
  }

  // The plugins append the URI verbatim, so a query string means someone else is asking.
  route(target: string): BrokerRoute | undefined {
    return this.#closed ? undefined : this.#routes.get(target);
  }

  check(route: BrokerRoute, input: CheckInput): CheckAnswer | Promise<CheckAnswer> {
    if (!route.methods.has(input.method)) {
      this.#metrics.unrouted.inc();

      return statusAnswer(WRONG_METHOD, true, ALLOW[route.family]);
    }

    let backend: BrokerBackend = route.family === 'plug' ? 'plug-http' : 'go-auth-http';

    try {
      if (input.body instanceof BadRequest) {
        throw input.body;
      }

      const check =
        route.family === 'plug'
          ? parsePlugRequest(route.endpoint, input.headers, input.body, this.#brokerKey)
          : parseGoAuthRequest(route.endpoint, input.headers, input.body, this.#brokerKey);
      backend = check.backend;

      if (!this.#enabled.has(backend)) {
        throw new BadRequest(`the ${backend} backend is not enabled`, { status: 404 });
      }

      // Most checks are answered from memory: only a pending hash or signature is awaited.
      const decided = this.#decide(check, input.peer);

      if (decided instanceof Promise) {
        return decided.then(
          (verdict) => this.#answer(route, check, verdict, input.started),
          (error: unknown) => this.#fail(route, check.backend, input.started, error),
        );
      }

      return this.#answer(route, check, decided, input.started);
    } catch (error) {
      return this.#fail(route, backend, input.started, error);
    }
  }

  explain(username: string, topic: string, access: CheckAccess): Decision {
    return this.#engine.explain(username, topic, access);
  }

  close(): void {
    if (this.#closed) {
      return;
    }

    this.#closed = true;
    this.#unsubscribe();
    this.#decisions.clear();
    this.#credentials.clear();
    this.#inflight.clear();
  }

  #answer(route: BrokerRoute, check: CheckRequest, verdict: Verdict, started: number): CheckAnswer {
    const [username, decision] = verdict;
    this.#record(check.backend, route.endpoint, decision.allowed ? 'allow' : 'deny', started);

    if (this.#logger.isLevelEnabled('debug')) {
      this.#logDecision(check, username, decision);
    }

    if (route.family === 'plug') {
      return decision.allowed ? this.#allowed : this.#denied;
    }

    const status = decision.allowed ? ALLOWED : DENIED;

    return goAuthAnswer(this.options.goAuth.responseMode, status, NOT_AUTHORISED);
  }

  // Every question becomes one of three engine calls; jwt backends first turn the token into
  // the username it stands for.
  #decide(check: CheckRequest, peer: Peer): Verdict | Promise<Verdict> {
    if (check.backend === 'plug-jwt' || check.backend === 'go-auth-jwt') {
      const subject = this.#tokenSubject(check.token);

      return subject instanceof Promise
        ? subject.then((verified) => this.#decideFor(check, verified, peer))
        : this.#decideFor(check, subject, peer);
    }

    return this.#decideFor(check, check.username, peer);
  }

  /** `username` undefined: the token did not verify. */
  #decideFor(
    check: CheckRequest,
    username: string | undefined,
    peer: Peer,
  ): Verdict | Promise<Verdict> {
    if (username === undefined) {
      return ['', deny('bad-token')];
    }

    switch (check.endpoint) {
      case 'auth': {
        const decision = this.#authenticate(check, username, peer);

        return decision instanceof Promise
          ? decision.then((settled) => [username, settled] as const)
          : [username, decision];
      }
      case 'superuser':
        return [username, this.#engine.isSuperuser(username)];
      case 'acl':
        if (check.access === undefined) {
          throw new BadRequest('an ACL check needs an acc');
        }

        return [username, this.#checkAcl(username, check.topic, check.access)];
    }
  }

  #authenticate(check: CheckRequest, username: string, peer: Peer): Promise<Decision> | Decision {
    if (check.backend === 'plug-jwt' || check.backend === 'go-auth-jwt') {
      return this.#engine.loginAllowed(username);
    }

    // Only a password login needs the source (for its throttle): reading the peer address is a
    // getpeername system call, measured at a tenth of a warm ACL check's CPU time.
    const source = peer.remoteAddress ?? UNKNOWN_SOURCE;

    return this.#login(username, check.password, source, LOGIN_ATTEMPTS);
  }

  #checkAcl(username: string, topic: string, access: CheckAccess): Decision {
    const cached = this.#decisions.get(username, topic, access);

    if (cached !== undefined) {
      this.#metrics.cache.decision.hit.inc();

      return cached;
    }

    this.#metrics.cache.decision.miss.inc();
    const decision = this.#engine.checkAcl(username, topic, access);
    this.#decisions.offer(username, topic, access, decision);

    return decision;
  }

  // Synchronous on a cache hit (every check but a token's first): no promise to wait for.
  #tokenSubject(token: string): string | undefined | Promise<string | undefined> {
    const cached = this.#tokens.cached(token);

    if (cached !== undefined) {
      this.#metrics.cache.token.hit.inc();

      return cached;
    }

    return this.#verifyToken(token);
  }

  async #verifyToken(token: string): Promise<string | undefined> {
    const verifier = this.#tokens;

    this.#metrics.cache.token.miss.inc();
    const result = await verifier.verify(token);

    // The trust root may have changed while the signature was checked (a key withdrawn): only
    // a verdict of the current snapshot's verifier counts.
    if (verifier !== this.#tokens) {
      return this.#tokenSubject(token);
    }

    if (result.ok) {
      return result.subject;
    }

    if (result.fault !== undefined) {
      this.#logger.warn({ err: result.fault }, 'broker token verification failed');
    } else {
      this.#logger.debug({ problem: result.problem }, 'broker token refused');
    }

    return undefined;
  }

  async #login(
    username: string,
    password: string,
    source: string,
    attempts: number,
  ): Promise<Decision> {
    const gate = this.#engine.loginAllowed(username);

    if (!gate.allowed) {
      return gate;
    }

    if (password === '') {
      return deny('empty-secret');
    }

    const digest = this.#credentials.digest(username, password);

    if (this.#credentials.has(digest)) {
      this.#metrics.cache.credential.hit.inc();

      return allow('cached-secret');
    }

    this.#metrics.cache.credential.miss.inc();
    // Which stored secret this check is about: verifySecret reads the same one, synchronously,
    // when it starts. A check already running for another one (the secret was rotated since)
    // is not joined.
    const stamp = this.#directory.secretStamp(username);
    let verification = this.#inflight.get(digest);

    // Joining a check that already runs costs nothing; only a new one has to pass the throttle.
    if (verification === undefined || verification.stamp !== stamp) {
      const blocked = this.#throttle.blocked(username, source);

      if (blocked !== undefined) {
        return this.#throttled(username, source, blocked);
      }

      verification = this.#startVerification(digest, username, password, source, stamp);
    }

    const outcome = await verification.settled;

    if (typeof outcome === 'string') {
      return this.#throttled(username, source, outcome);
    }

    // The secret changed while the hash ran (rotated, re-enrolled, removed): the verdict is
    // about the old one. Ask again about the new one, or refuse rather than answer for it.
    if (this.#directory.secretStamp(username) !== stamp) {
      return attempts > 1
        ? this.#login(username, password, source, attempts - 1)
        : deny('bad-secret');
    }

    if (!outcome) {
      return deny('bad-secret');
    }

    // A disable committed while the hash ran is refused here (and verifySecret saw it too).
    const still = this.#engine.loginAllowed(username);

    if (!still.allowed) {
      return still;
    }

    this.#credentials.add(digest, { username, stamp });

    return allow('login-allowed');
  }

  #throttled(username: string, source: string, scope: ThrottleScope): Decision {
    this.#metrics.throttled[scope].inc();
    this.#logger.debug({ username, source, scope }, 'throttled login refused');

    return deny('throttled');
  }

  /**
   * Checks a secret once for all concurrent logins with these credentials. Only a wrong secret
   * counts against the throttle, so valid logins arriving together are never refused for each
   * other. Checks wait in line instead: one at a time per username, so concurrent guesses at
   * one name cannot all start before the first failures are counted, and a few at a time per
   * source, so a flood costs at most that many hashes at once. Each looks at the throttle again
   * when its turn comes, as failures counted while it waited may have used up the budget.
   */
  #startVerification(
    digest: string,
    username: string,
    password: string,
    source: string,
    stamp: string | undefined,
  ): InFlight {
    const verification = this.#usernameSlots.run(
      username,
      () =>
        this.#sourceSlots.run(
          source,
          () => this.#verifyWhenAllowed(username, password, source),
          'source' as const,
        ),
      'username' as const,
    );
    const inFlight: InFlight = {
      stamp,
      settled: verification.finally(() => {
        if (this.#inflight.get(digest) === inFlight) {
          this.#inflight.delete(digest);
        }
      }),
    };

    this.#inflight.set(digest, inFlight);

    return inFlight;
  }

  async #verifyWhenAllowed(
    username: string,
    password: string,
    source: string,
  ): Promise<Verification> {
    const blocked = this.#throttle.blocked(username, source);

    if (blocked !== undefined) {
      return blocked;
    }

    let verified: boolean;

    try {
      verified = await this.#directory.verifySecret(username, password);
    } catch (error) {
      this.#metrics.storeErrors.inc();
      throw new StoreFault('secret verification failed', { cause: error });
    }

    if (!verified) {
      const spent = this.#throttle.recordFailure(username, source);

      // Once per bucket running dry, not once per refused attempt: a flood must not flood the
      // log.
      if (spent !== undefined) {
        this.#logger.warn({ username, source, scope: spent }, 'login throttled');
      }
    }

    return verified;
  }

  #adopt(snapshot: DirectorySnapshot): void {
    if (snapshot.revision < this.#engine.revision) {
      this.#logger.warn(
        { revision: snapshot.revision, current: this.#engine.revision },
        'ignored an older directory snapshot',
      );

      return;
    }

    this.#engine = new DecisionEngine(snapshot);
    this.#decisions = new DecisionCache(this.options.cache.decisionEntries);
    this.#tokens = this.#tokenVerifier(snapshot);
    // Only the principals this change concerns lose their verified secrets: one whose secret
    // changed, or that was removed or disabled. Every other agent's next login stays a cache
    // hit, whatever the admin changed elsewhere.
    this.#credentials.retain(
      ({ username, stamp }) =>
        snapshot.principals.get(username)?.enabled === true &&
        this.#directory.secretStamp(username) === stamp,
    );
    this.#logger.info({ revision: snapshot.revision }, 'broker checks follow a new directory');
  }

  #tokenVerifier(snapshot: DirectorySnapshot): TokenVerifier {
    return new TokenVerifier(
      snapshot,
      this.options.jwtAudience,
      this.options.cache.tokenEntries,
      this.#now,
    );
  }

  #fail(route: BrokerRoute, backend: BrokerBackend, started: number, error: unknown): CheckAnswer {
    if (error instanceof BadRequest) {
      this.#logger.debug(
        { backend, endpoint: route.endpoint, status: error.status, problem: error.message },
        'broker check refused as malformed',
      );
      this.#record(backend, route.endpoint, 'malformed', started);

      return this.#failure(route.family, error.status, error.message);
    }

    this.#logger.error({ err: error, backend, endpoint: route.endpoint }, 'broker check failed');
    this.#record(backend, route.endpoint, 'error', started);

    return this.#failure(route.family, FAULT, 'internal error');
  }

  // A failed request's answer closes the connection: what else the peer sent is not read.
  #failure(family: Family, status: number, message: string): CheckAnswer {
    return family === 'plug'
      ? statusAnswer(status, true)
      : goAuthAnswer(this.options.goAuth.responseMode, status, message, true);
  }

  #record(
    backend: BrokerBackend,
    endpoint: BrokerEndpoint,
    outcome: CheckOutcome,
    started: number,
  ): void {
    this.#metrics.checks[backend][endpoint][outcome].inc();
    this.#metrics.latency[endpoint].observe((performance.now() - started) / MILLIS_PER_SECOND);
  }

  #logDecision(check: CheckRequest, username: string, decision: Decision): void {
    this.#logger.debug(
      {
        backend: check.backend,
        endpoint: check.endpoint,
        username,
        acc: check.access,
        topic: check.topic,
        allowed: decision.allowed,
        reason: decision.reason,
        rule: decision.rule,
      },
      'broker check',
    );
  }

  #addRoutes(): void {
    const { plug, goAuth } = this.options;
    const add = (uri: string, family: Family, endpoint: BrokerEndpoint): void => {
      this.#routes.set(uri, Object.freeze({ family, endpoint, methods: METHODS[family] }));
    };

    add(plug.getuserUri, 'plug', 'auth');
    add(plug.superuserUri, 'plug', 'superuser');
    add(plug.aclcheckUri, 'plug', 'acl');
    add(goAuth.getuserUri, 'go-auth', 'auth');
    add(goAuth.superuserUri, 'go-auth', 'superuser');
    add(goAuth.aclcheckUri, 'go-auth', 'acl');
  }
}

/** The store could not answer: the one case where the broker is told "error" (a 5xx). */
class StoreFault extends Error {
  override readonly name = 'StoreFault';
}
