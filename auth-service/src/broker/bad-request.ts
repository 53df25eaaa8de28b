/** The 4xx statuses a refused broker request can get. */
export type RefusalStatus = 400 | 401 | 404 | 405 | 411 | 413 | 417;

/** Input the plugins would never send: answered 4xx (a deny to the broker), never a 5xx. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';

  constructor(message: string, options?: ErrorOptions & { readonly status?: RefusalStatus }) {
    super(message, options);
    this.status = options?.status ?? 400;
  }

  readonly status: RefusalStatus;
}
