import { connect } from 'node:net';
import { percentEncode } from './percent-encode.js';

// A client that asks an auth service exactly as mosquitto-auth-plug does (captured wire format:
// shared/contract/mosquitto-auth-plug/README.md): one POST per lookup on a new TCP connection,
// headers in the plug's order, a form body with fields in its fixed order, and only the status
// code read back. The embedded Aedes bridge and the benchmarks use it to stand in for the plug.

/** What the plug makes of an answer: 2xx yes, 5xx (or no answer at all) error, anything else no. */
export type PlugAnswer = 'yes' | 'no' | 'error';

/** MQTT access of an ACL check: 1 read, 2 write, 4 subscribe. */
export type PlugAcc = 1 | 2 | 4;

/** A `k1=ENV1,...` *_params option, already resolved to names and values. */
export type PlugParams = readonly (readonly [string, string])[];

export interface PlugClientOptions {
  /** `auth_opt_backends`: `http` sends the credentials, `jwt` the MQTT username as a Bearer token. */
  readonly backend: 'http' | 'jwt';
  /** `auth_opt_http_ip`: where the http backend connects. */
  readonly ip: string;
  /** `auth_opt_http_port`; the plug's default is 80. */
  readonly port?: number;
  /** `auth_opt_http_hostname`: the Host header (and, for jwt, where to connect). */
  readonly hostname?: string;
  /** `auth_opt_http_basic_auth_key`, sent verbatim as `Authorization: Basic <key>` (http only). */
  readonly basicAuthKey?: string;
  readonly uris?: {
    readonly getuser?: string;
    readonly superuser?: string;
    readonly aclcheck?: string;
  };
  /** `auth_opt_http_*_params`, written in front of the body (the jwt backend is where they work). */
  readonly params?: {
    readonly getuser?: PlugParams;
    readonly superuser?: PlugParams;
    readonly aclcheck?: PlugParams;
  };
  /** `auth_opt_http_retry_count` (http backend only; the jwt backend never retries). */
  readonly retryCount?: number;
  /** Milliseconds for a whole request; the plug's is fixed at 10 s. */
  readonly timeoutMs?: number;
}

/** The plug's own request timeout: 10 s for the whole request, not configurable. */
export const PLUG_TIMEOUT_MS = 10_000;
/** `auth_opt_http_retry_count` default: 3 retries, 4 attempts in all. */
export const PLUG_DEFAULT_RETRY_COUNT = 3;
const HTTP_DEFAULT_PORT = 80;
const ACL_CLIENT_ID = 'client id not available';
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
/** Usernames the plug refuses on every ACL check without asking anyone. */
const UNSAFE_USERNAME = /[/+#]/;

interface Lookup {
  readonly uri: string;
  readonly body: string;
  /** The credentials the http backend puts in Authorization when no key is set. */
  readonly username: string;
  readonly password: string;
}

export class PlugClient {
  readonly #options: PlugClientOptions;
  readonly #port: number;
  readonly #uris: { getuser: string; superuser: string; aclcheck: string };

  constructor(options: PlugClientOptions) {
    this.#options = options;
    this.#port = options.port ?? HTTP_DEFAULT_PORT;
    this.#uris = {
      getuser: options.uris?.getuser ?? '/auth',
      superuser: options.uris?.superuser ?? '/superuser',
      aclcheck: options.uris?.aclcheck ?? '/acl',
    };
  }

  /** A CONNECT: refused locally without a username or password, else one getuser request. */
  authenticate(username: string, password: string): Promise<PlugAnswer> {
    if (username === '' || password === '') {
      return Promise.resolve('no');
    }

    return this.getUser(username, password);
  }

  /**
   * An uncached ACL check as the plug makes it: unsafe usernames are refused locally; then the
   * superuser request (yes ends it); then the acl request. If nothing said yes and a step
   * errored, the answer is an error, not a no.
   */
  async checkAcl(username: string, topic: string, acc: PlugAcc): Promise<PlugAnswer> {
    if (UNSAFE_USERNAME.test(username)) {
      return 'no';
    }

    const superuser = await this.superuser(username);

    if (superuser === 'yes') {
      return 'yes';
    }

    const acl = await this.aclCheck(username, topic, acc);

    return acl === 'no' && superuser === 'error' ? 'error' : acl;
  }

  /** The getuser request alone. With the jwt backend, `username` is the token. */
  getUser(username: string, password: string): Promise<PlugAnswer> {
    const body = this.#body(this.#options.params?.getuser, username, password, '', '-1', '');

    return this.#ask({ uri: this.#uris.getuser, body, username, password });
  }

  /** The superuser request alone. */
  superuser(username: string): Promise<PlugAnswer> {
    const body = this.#body(this.#options.params?.superuser, username, '', '', '-1', '');

    return this.#ask({ uri: this.#uris.superuser, body, username, password: '' });
  }

  /** The acl request alone. */
  aclCheck(username: string, topic: string, acc: PlugAcc): Promise<PlugAnswer> {
    const params = this.#options.params?.aclcheck;
    const body = this.#body(params, username, '', topic, String(acc), ACL_CLIENT_ID);

    return this.#ask({ uri: this.#uris.aclcheck, body, username, password: '' });
  }

  // Fields in the plug's fixed order; the jwt backend leaves out username and password, and
  // clientid is written raw.
  #body(
    params: PlugParams | undefined,
    username: string,
    password: string,
    topic: string,
    acc: string,
    clientId: string,
  ): string {
    const prefix = (params ?? [])
      .map(([name, value]) => `${name}=${percentEncode(value)}&`)
      .join('');
    const credentials =
      this.#options.backend === 'http'
        ? `username=${percentEncode(username)}&password=${percentEncode(password)}&`
        : '';

    return `${prefix}${credentials}topic=${percentEncode(topic)}&acc=${acc}&clientid=${clientId}`;
  }

  async #ask(lookup: Lookup): Promise<PlugAnswer> {
    const attempts =
      this.#options.backend === 'http'
        ? 1 + (this.#options.retryCount ?? PLUG_DEFAULT_RETRY_COUNT)
        : 1;
    let answer: PlugAnswer = 'error';

    // Back to back, no delay, only on error: what the plug does while the broker waits.
    for (let attempt = 0; attempt < attempts && answer === 'error'; attempt += 1) {
      answer = await this.#send(lookup);
    }

    return answer;
  }

  /** The exact bytes of one request. */
  #requestBytes(lookup: Lookup): Buffer {
    const { backend, basicAuthKey, hostname } = this.#options;
    const host = hostname ?? this.#defaultHost();
    const lines = [`POST ${lookup.uri} HTTP/1.1`, `Host: ${host}`];

    // The http backend's own credentials header comes before Accept; the key and the jwt
    // Bearer header come after it.
    if (backend === 'http' && basicAuthKey === undefined) {
      const credentials = Buffer.from(`${lookup.username}:${lookup.password}`, 'utf8');
      lines.push(`Authorization: Basic ${credentials.toString('base64')}`);
    }

    lines.push('Accept: */*');

    if (backend === 'http' && basicAuthKey !== undefined) {
      lines.push(`Authorization: Basic ${basicAuthKey}`);
    }

    if (backend === 'jwt') {
      lines.push(`Authorization: Bearer ${percentEncode(lookup.username)}`);
    }

    const body = Buffer.from(lookup.body, 'utf8');
    lines.push(`Content-Length: ${body.length}`, 'Content-Type: application/x-www-form-urlencoded');

    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
  }

  #defaultHost(): string {
    return this.#port === HTTP_DEFAULT_PORT
      ? this.#options.ip
      : `${this.#options.ip}:${this.#port}`;
  }

  // With http_hostname the jwt backend resolves and dials that name; the http backend always
  // dials http_ip.
  #dialHost(): string {
    const { backend, hostname, ip } = this.#options;

    return backend === 'jwt' && hostname !== undefined ? hostname : ip;
  }

  #send(lookup: Lookup): Promise<PlugAnswer> {
    const request = this.#requestBytes(lookup);

    return new Promise((resolve) => {
      const socket = connect({ host: this.#dialHost(), port: this.#port, noDelay: true });
      const chunks: Buffer[] = [];
      let settled = false;

      const settle = (answer: PlugAnswer): void => {
        if (settled) {
          return;
        }

        settled = true;
        socket.destroy();
        resolve(answer);
      };

      socket.setTimeout(this.#options.timeoutMs ?? PLUG_TIMEOUT_MS, () => settle('error'));
      socket.on('connect', () => socket.write(request));
      socket.on('error', () => settle('error'));
      socket.on('close', () => settle(readAnswer(Buffer.concat(chunks), true) ?? 'error'));
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const answer = readAnswer(Buffer.concat(chunks), false);

        if (answer !== undefined) {
          settle(answer);
        }
      });
    });
  }
}

// Like libcurl, a response counts once it is complete: its head, then Content-Length bytes of
// body (or everything up to the close when the length is missing).
function readAnswer(data: Buffer, closed: boolean): PlugAnswer | undefined {
  const headEnd = data.indexOf(HEAD_END);

  if (headEnd === -1) {
    return undefined;
  }

  const head = data.subarray(0, headEnd).toString('latin1');
  const status = Number(STATUS_LINE.exec(head)?.[1] ?? Number.NaN);

  if (Number.isNaN(status)) {
    return 'error';
  }

  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  const complete = closed || (length !== undefined && data.length - headEnd - 4 >= Number(length));

  if (!complete) {
    return undefined;
  }

  if (status >= 200 && status < 300) {
    return 'yes';
  }

  return status >= 500 ? 'error' : 'no';
}
