/** Input the plugins would never send: answered 4xx (a deny to the broker), never a 5xx. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';

  constructor(
    message: string,
    options?: ErrorOptions & { readonly status?: 400 | 401 | 404 | 405 | 413 },
  ) {
    super(message, options);
    this.status = options?.status ?? 400;
  }

  readonly status: 400 | 401 | 404 | 405 | 413;
}
