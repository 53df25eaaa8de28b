import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import { ACCESS, type BrokerAuthChecks, type CheckAnswer } from './broker-auth.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { ReadCache } from './read-cache.js';
import { FilterIndex, RetainedIndex } from './topic-index.js';

/**
 * Where a denied publish is sent instead of being delivered. Mosquitto answers a denied QoS 1
 * publish with a normal PUBACK and drops it (contract/broker-behaviour.txt); Aedes would close
 * the connection on a refusal, so the message is redirected to a `$` topic that no wildcard
 * matches, that nobody may subscribe to, and that is never retained.
 */
export const DENIED_TOPIC = '$beckon/denied';

/** How long a fetched read decision is trusted, as the plug's `acl_cacheseconds`. */
export const DEFAULT_READ_CACHE_MS = 5_000;
/** Retained messages checked ahead of one subscription; more are not delivered. */
const MAX_RETAINED_PREFETCH = 10_000;
/** Agents' client ids (`beckon-agent-<id>`) are longer than MQTT 3.1's 23 characters. */
const MAX_CLIENT_ID_LENGTH = 256;
/**
 * Logins the broker asks the auth-service about at once. Mosquitto's plug asks one at a time;
 * Aedes would ask about every CONNECT of a storm together, and the auth-service reserves a
 * failed-login token per source for each secret it is still hashing (200 by default), so 2,000
 * agents connecting at once got about a hundred of them refused (the connect-storm benchmark).
 * Sixteen keeps the auth-service's hashing threads busy without coming near that.
 */
export const DEFAULT_MAX_CONCURRENT_LOGINS = 16;
/** Aedes' return code for "server unavailable": the auth-service could not answer. */
const SERVER_UNAVAILABLE = 3;

export interface EmbeddedBrokerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly checks: BrokerAuthChecks;
  readonly logger: Logger;
  readonly readCacheMs?: number;
  /** Logins asked about at once; the rest queue (`DEFAULT_MAX_CONCURRENT_LOGINS`). */
  readonly maxConcurrentLogins?: number;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

// Aedes does not type its persistence; these are the calls of aedes-persistence 11 used here.
interface Persistence {
  subscriptionsByTopic(topic: string): Promise<readonly { clientId: string }[]>;
  outgoingStream(client: Client): AsyncIterable<{ topic?: string; cmd?: string }>;
  storeRetained(packet: { topic: string; payload: Buffer | string }): Promise<void>;
}

function unavailable(message: string): AuthenticateError {
  // AuthErrorCode is an ambient const enum, which isolated modules cannot import as a value.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  const returnCode = SERVER_UNAVAILABLE as AuthenticateError['returnCode'];

  return Object.assign(new Error(message), { returnCode });
}

/**
 * Keeps `index` in step with the retained messages Aedes stores, so a subscription's retained
 * messages are found without scanning them all. A topic is indexed before its message is
 * stored and unindexed only after its removal, so a subscription checked meanwhile asks about
 * one topic too many rather than one too few (a retained message without a fetched read
 * decision would not be delivered).
 */
function followRetained(persistence: Persistence, index: RetainedIndex): void {
  const store = persistence.storeRetained.bind(persistence);

  persistence.storeRetained = async (packet) => {
    if (packet.payload.length === 0) {
      await store(packet);
      index.delete(packet.topic);

      return;
    }

    index.add(packet.topic);
    await store(packet);
  };
}

/**
 * An MQTT 3.1.1 broker (Aedes) that asks the auth-service every question Mosquitto with
 * mosquitto-auth-plug would ask, with the same consequences for allow, deny and error, so the
 * local system runs the production authorisation path.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { checks, logger } = options;
  const reads = new ReadCache(options.readCacheMs ?? DEFAULT_READ_CACHE_MS);
  const logins = new ConcurrencyLimit(options.maxConcurrentLogins ?? DEFAULT_MAX_CONCURRENT_LOGINS);
  const usernames = new Map<string, string>();
  // Aedes keeps clean sessions' subscriptions out of its persistence, so they are tracked here.
  const liveFilters = new FilterIndex();
  const retained = new RetainedIndex();
  const aedes = await Aedes.createBroker({ maxClientsIdLength: MAX_CLIENT_ID_LENGTH });
  const persistence = (aedes as unknown as { persistence: Persistence }).persistence;
  followRetained(persistence, retained);

  async function fetchRead(username: string, topic: string, clientId: string): Promise<void> {
    if (!reads.has(username, topic)) {
      reads.set(username, topic, await checks.checkAcl(username, topic, ACCESS.read, clientId));
    }
  }

  // Before a message is routed, ask about every connected subscriber that would receive it.
  async function prefetchSubscribers(topic: string): Promise<void> {
    const stored = await persistence.subscriptionsByTopic(topic);
    // Read decisions are per username; the first client id seen stands for its others.
    const names = new Map<string, string>();
    const addClient = (clientId: string): void => {
      const username = usernames.get(clientId);

      if (username !== undefined && !names.has(username)) {
        names.set(username, clientId);
      }
    };

    for (const { clientId } of stored) {
      addClient(clientId);
    }

    for (const clientId of liveFilters.clientsMatching(topic)) {
      addClient(clientId);
    }

    await Promise.all(
      [...names].map(([username, clientId]) => fetchRead(username, topic, clientId)),
    );
  }

  // Messages queued for a persistent session are delivered right after it reconnects.
  async function prefetchQueued(client: Client, username: string): Promise<void> {
    const topics = new Set<string>();

    for await (const packet of persistence.outgoingStream(client)) {
      if (packet.cmd === 'publish' && packet.topic !== undefined) {
        topics.add(packet.topic);
      }
    }

    await Promise.all([...topics].map((topic) => fetchRead(username, topic, client.id)));
  }

  async function prefetchRetained(filter: string, client: Client, username: string): Promise<void> {
    // One more than the limit tells whether the limit cut anything off.
    const topics = retained.topicsMatching(filter, MAX_RETAINED_PREFETCH + 1);

    if (topics.length > MAX_RETAINED_PREFETCH) {
      logger.warn({ username, filter }, 'retained prefetch limit reached');
      topics.length = MAX_RETAINED_PREFETCH;
    }

    await Promise.all(topics.map((topic) => fetchRead(username, topic, client.id)));
  }

  function onAnswerError(step: string, username: string, err: unknown): void {
    logger.error({ err, username, step }, 'broker auth step failed');
  }

  aedes.authenticate = (client, username, password, done) => {
    // The plug refuses a missing or empty username or password without asking.
    if (
      username === undefined ||
      username === '' ||
      password === undefined ||
      password.length === 0
    ) {
      done(null, false);
      return;
    }

    logins
      .run(() => checks.authenticate(username, password.toString('utf8'), client.id))
      .then(async (answer: CheckAnswer) => {
        switch (answer) {
          case 'yes':
            usernames.set(client.id, username);
            await prefetchQueued(client, username);
            done(null, true);
            return;
          case 'no':
            done(null, false);
            return;
          case 'error':
            done(unavailable('auth-service did not answer'), false);
            return;
        }
      })
      .catch((err: unknown) => {
        onAnswerError('authenticate', username, err);
        done(unavailable('auth-service check failed'), false);
      });
  };

  aedes.authorizePublish = (client, packet, done) => {
    const username = client === null ? undefined : usernames.get(client.id);

    if (client === null || username === undefined || packet.topic.startsWith('$')) {
      done(new Error('publish refused'));
      return;
    }

    checks
      .checkAcl(username, packet.topic, ACCESS.write, client.id)
      .then(async (answer) => {
        switch (answer) {
          case 'yes':
            await prefetchSubscribers(packet.topic);
            done(null);
            return;
          case 'no':
            logger.debug({ username, topic: packet.topic }, 'publish denied');
            packet.topic = DENIED_TOPIC;
            packet.retain = false;
            done(null);
            return;
          case 'error':
            done(new Error('auth-service did not answer'));
            return;
        }
      })
      .catch((err: unknown) => {
        onAnswerError('publish', username, err);
        done(new Error('auth-service check failed'));
      });
  };

  aedes.authorizeSubscribe = (client, subscription: Subscription, done) => {
    const username = usernames.get(client.id);

    if (username === undefined || subscription.topic.startsWith(DENIED_TOPIC)) {
      done(null, null);
      return;
    }

    checks
      .checkAcl(username, subscription.topic, ACCESS.subscribe, client.id)
      .then(async (answer) => {
        switch (answer) {
          case 'yes':
            await prefetchRetained(subscription.topic, client, username);
            done(null, subscription);
            return;
          case 'no':
            done(null, null);
            return;
          case 'error':
            done(new Error('auth-service did not answer'));
            return;
        }
      })
      .catch((err: unknown) => {
        onAnswerError('subscribe', username, err);
        done(new Error('auth-service check failed'));
      });
  };

  aedes.authorizeForward = (client, packet) => {
    const username = usernames.get(client.id);

    if (username === undefined || packet.topic === DENIED_TOPIC) {
      return null;
    }

    return reads.allows(username, packet.topic) ? packet : null;
  };

  aedes.on('subscribe', (subscriptions, client) => {
    for (const { topic } of subscriptions) {
      liveFilters.add(client.id, topic);
    }
  });

  aedes.on('unsubscribe', (topics, client) => {
    for (const topic of topics) {
      liveFilters.delete(client.id, topic);
    }
  });

  aedes.on('clientDisconnect', (client) => {
    usernames.delete(client.id);
    liveFilters.deleteClient(client.id);
  });

  const server: Server = createServer((socket: Socket) => {
    // Nagle costs two delayed-ACK stalls per QoS 1 round trip (PERFORMANCE.md).
    socket.setNoDelay(true);
    aedes.handle(socket);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const host = options.host ?? '127.0.0.1';

  return {
    port,
    url: `mqtt://${host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      reads.clear();
    },
  };
}
