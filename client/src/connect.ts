import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { allAgentsFilter } from '@beckon/shared';
import { pino } from 'pino';
import { fetchBrokerToken, fetchCredential, type AuthServiceOptions } from './auth-api.js';
import type { Catalogue, UntypedCatalogue } from './catalogue-types.js';
import { BeckonClient, type Signer } from './client.js';
import { resolveConnectOptions, type ResolvedConnectOptions } from './connect-options.js';
import { BeckonError } from './errors.js';
import { MqttSession, redactUrl } from './mqtt-session.js';
import { loadAppKey, readAppKeyFile } from './private-key.js';
import { Renewing } from './renewing.js';

/** The password sent beside a broker JWT: the jwt backends ignore it but need it non-empty. */
const TOKEN_LOGIN_PASSWORD = 'jwt';

async function loadCa(options: ResolvedConnectOptions): Promise<Buffer | undefined> {
  if (options.ca !== undefined) {
    return Buffer.from(options.ca);
  }

  if (options.caFile === undefined) {
    return undefined;
  }

  try {
    return await readFile(options.caFile);
  } catch (error) {
    throw new BeckonError('invalid_arguments', `options.caFile: cannot read ${options.caFile}`, {
      argument: 'options.caFile',
      cause: error,
    });
  }
}

async function startSigner(
  settings: ResolvedConnectOptions,
  auth: AuthServiceOptions,
  logger: pino.Logger,
): Promise<Signer> {
  const key =
    settings.privateKeyFile === undefined
      ? loadAppKey(settings.privateKey, 'options.privateKey')
      : await readAppKeyFile(settings.privateKeyFile, 'options.privateKeyFile');
  const credential = new Renewing<string>({
    name: 'credential',
    logger,
    unavailableCode: 'credential_unavailable',
    fetch: async () => {
      const answer = await fetchCredential(auth, key.publicJwk);

      return { value: answer.credential, expiresAt: new Date(answer.expiresAt) };
    },
  });
  await credential.start();

  return { key, credential };
}

async function startBrokerToken(
  auth: AuthServiceOptions,
  logger: pino.Logger,
  onRenewed: () => void,
): Promise<Renewing<string>> {
  const token = new Renewing<string>({
    name: 'broker token',
    logger,
    unavailableCode: 'not_connected',
    fetch: async () => {
      const answer = await fetchBrokerToken(auth);

      return { value: answer.token, expiresAt: new Date(answer.expiresAt) };
    },
    onRenewed,
  });
  await token.start();

  return token;
}

// The first session must come up within connectTimeout; refused credentials fail at once,
// since retrying them cannot help a caller that is still starting up.
async function firstSession(session: MqttSession, settings: ResolvedConnectOptions): Promise<void> {
  const giveUp = new AbortController();
  const timer = setTimeout(() => {
    const last = session.lastError;
    giveUp.abort(
      new BeckonError(
        'not_connected',
        `no broker session at ${redactUrl(settings.url)} within ${settings.connectTimeoutMs} ms` +
          (last === undefined ? '' : ` (last error: ${last.message})`),
        { cause: last },
      ),
    );
  }, settings.connectTimeoutMs);
  const onRefused = (error: BeckonError): void => {
    giveUp.abort(error);
  };
  const onCallerAbort = (): void => {
    giveUp.abort(
      new BeckonError('aborted', 'connect was aborted', { cause: settings.signal?.reason }),
    );
  };
  session.once('refused', onRefused);
  settings.signal?.addEventListener('abort', onCallerAbort, { once: true });

  try {
    void session.subscribe(allAgentsFilter('results')).catch(() => undefined);
    session.start();
    await session.whenReady(giveUp.signal);
  } finally {
    clearTimeout(timer);
    session.off('refused', onRefused);
    settings.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * Connects an app to Beckon: loads its key, obtains its certified credential (and a broker
 * token when asked), opens the broker session and resolves once it is ready.
 *
 * Pass a catalogue type to check `args` at compile time: `connect<MyCatalogue>(options)`.
 */
export async function connect<C extends Catalogue = UntypedCatalogue>(
  options: unknown,
): Promise<BeckonClient<C>> {
  const settings = resolveConnectOptions(options);
  const logger = (settings.logger ?? pino({ enabled: false })).child({ appId: settings.appId });
  const ca = await loadCa(settings);
  const auth: AuthServiceOptions | undefined =
    settings.authUrl === undefined
      ? undefined
      : {
          url: settings.authUrl,
          appId: settings.appId,
          secret: settings.secret,
          ...(ca === undefined ? {} : { ca }),
        };

  let signer: Signer | undefined;
  let brokerToken: Renewing<string> | undefined;
  // The token renewal callback needs the session, which needs the token: a late-bound holder.
  const sessionRef: { current?: MqttSession } = {};

  try {
    if (settings.unsigned || auth === undefined) {
      logger.warn({}, 'commands are unsigned: only agents with signature checks off accept them');
    } else {
      signer = await startSigner(settings, auth, logger);
    }

    if (settings.brokerLogin === 'token' && auth !== undefined) {
      // The broker checks a token when a client connects: use a renewed one at once.
      brokerToken = await startBrokerToken(auth, logger, () => sessionRef.current?.reconnectNow());
    }
  } catch (error) {
    signer?.credential.stop();
    brokerToken?.stop();
    throw error;
  }

  const token = brokerToken;
  const session = new MqttSession({
    url: settings.url,
    clientId: settings.clientId ?? `${settings.appId}-${randomUUID().slice(0, 8)}`,
    mqttVersion: settings.mqttVersion,
    login: () =>
      token === undefined
        ? { username: settings.appId, password: settings.secret }
        : { username: token.peek() ?? '', password: TOKEN_LOGIN_PASSWORD },
    ...(ca === undefined ? {} : { ca }),
    ...(settings.servername === undefined ? {} : { servername: settings.servername }),
    schedule: settings.schedule,
    logger,
  });
  sessionRef.current = session;
  const client = new BeckonClient<C>({
    appId: settings.appId,
    logger,
    session,
    signer,
    brokerToken,
    ...(auth === undefined ? {} : { auth }),
  });

  try {
    await firstSession(session, settings);
  } catch (error) {
    await client.close();
    throw error;
  }

  return client;
}
