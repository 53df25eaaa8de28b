import {
  AgentTrustResponse,
  describeIssues,
  safeParse,
  verifyMessage,
  type Cancel,
  type Command,
  type CredentialClaims,
  type TrustRoot,
  type VerifyResult,
} from '@beckon/shared';
import type { Logger } from '../logger.js';
import { httpGet } from '../net/http-get.js';

export const TRUST_REFRESH_INTERVAL_MS = 60 * 60 * 1_000;
/** The trust endpoint answers from memory; ten seconds is a dead or unreachable service. */
export const TRUST_FETCH_TIMEOUT_MS = 10_000;
const MAX_TRUST_RESPONSE_BYTES = 256 * 1_024;

export interface TrustSnapshot {
  readonly trustRoot: TrustRoot;
  readonly groups: readonly string[];
}

export interface TrustSource {
  /** The auth-service public listener; absent means the credentials file is the only source. */
  readonly authUrl?: string;
  readonly agentId: string;
  /** Read at each refresh, so a rotated password is used. */
  readonly basicAuth: () => Promise<{ readonly username: string; readonly password: string }>;
}

/**
 * The agent's view of the trust root and its own groups, kept fresh from the auth-service,
 * and the verifier of signed commands. `verifyMessage` remembers verified credentials by token
 * and trust root, so a burst of commands from one app costs one JWT verification, and a
 * replaced trust root is never served a credential verified under the old one.
 */
export class TrustState {
  readonly #logger: Logger;
  readonly #source: TrustSource;
  #snapshot: TrustSnapshot;
  #timer: NodeJS.Timeout | undefined;

  constructor(initial: TrustSnapshot, source: TrustSource, logger: Logger) {
    this.#snapshot = initial;
    this.#source = source;
    this.#logger = logger;
  }

  get snapshot(): TrustSnapshot {
    return this.#snapshot;
  }

  /** Fetches once now, then every hour; failures keep the last good values. */
  async start(): Promise<void> {
    if (this.#source.authUrl === undefined) {
      this.#logger.info({ authUrl: null }, 'trust refresh off (no auth url)');
      return;
    }

    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), TRUST_REFRESH_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One refresh from `GET <authUrl>/v1/agent/trust`; never throws. */
  async refresh(): Promise<boolean> {
    const { authUrl, agentId } = this.#source;

    if (authUrl === undefined) {
      return false;
    }

    try {
      const fresh = await this.#fetch(authUrl);

      if (fresh.agentId !== agentId) {
        throw new Error(`the auth-service answered for agent ${fresh.agentId}`);
      }

      this.replace({ trustRoot: fresh.trustRoot, groups: fresh.groups });
      this.#logger.info(
        { keys: fresh.trustRoot.keys.map((key) => key.kid), groups: fresh.groups },
        'trust refreshed',
      );

      return true;
    } catch (error) {
      this.#logger.warn({ err: error }, 'trust refresh failed, keeping the last values');

      return false;
    }
  }

  /** Swaps in a new trust root and groups. */
  replace(snapshot: TrustSnapshot): void {
    this.#snapshot = snapshot;
  }

  /** The agent's second gate: see `verifyMessage` in @beckon/shared. */
  verify(message: Command | Cancel): Promise<VerifyResult<CredentialClaims>> {
    return verifyMessage(message, {
      trustRoot: this.#snapshot.trustRoot,
      agentId: this.#source.agentId,
      agentGroups: this.#snapshot.groups,
    });
  }

  async #fetch(authUrl: string): Promise<AgentTrustResponse> {
    const url = new URL(authUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/agent/trust`;
    const { username, password } = await this.#source.basicAuth();
    const basic = Buffer.from(`${username}:${password}`).toString('base64');
    const answer = await httpGet(url, {
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
      timeoutMs: TRUST_FETCH_TIMEOUT_MS,
      maxBytes: MAX_TRUST_RESPONSE_BYTES,
    });

    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`GET ${url.pathname} answered HTTP ${answer.status}`);
    }

    const parsed = safeParse(AgentTrustResponse, JSON.parse(answer.text) as unknown);

    if (!parsed.ok) {
      throw new Error(`GET ${url.pathname} answer is not valid: ${describeIssues(parsed.issues)}`);
    }

    return parsed.value;
  }
}
