/** A thin client for the auth-service admin API, as an operator's script would use it. */
export class AdminApi {
  readonly #url: string;
  readonly #token: string;

  constructor(url: string, token: string) {
    this.#url = url;
    this.#token = token;
  }

  async request(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.#url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, unknown>;

    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    }

    return answer;
  }

  post(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
    return this.request('POST', path, body);
  }

  get(path: string): Promise<Record<string, unknown>> {
    return this.request('GET', path);
  }

  delete(path: string): Promise<Record<string, unknown>> {
    return this.request('DELETE', path);
  }

  /** Adds an app and returns its secret (shown once). */
  async addApp(id: string): Promise<string> {
    const answer = await this.post('/v1/apps', { id });

    return String(answer['secret']);
  }

  /** Adds an agent directly (without enrollment) and returns its secret. */
  async addAgent(id: string, groups: readonly string[] = []): Promise<string> {
    const answer = await this.post('/v1/agents', { id, groups });

    return String(answer['secret']);
  }

  async grant(
    appId: string,
    grant: { agents?: readonly string[]; groups?: readonly string[]; actions?: readonly string[] },
  ): Promise<string> {
    const answer = await this.post('/v1/grants', { appId, ...grant });

    return (answer['grant'] as { id: string }).id;
  }

  /** A one-time enrollment token for one agent id. */
  async enrollToken(agentId: string, groups: readonly string[] = []): Promise<string> {
    const answer = await this.post('/v1/enroll-tokens', { agentId, groups, uses: 1 });

    return String(answer['token']);
  }
}
