import type { ArgValue } from '@beckon/shared';

/**
 * A catalogue type describes, at compile time, what the app's agents offer: one property per
 * action, whose type is that action's arguments. Optional properties are optional arguments.
 *
 * ```ts
 * interface Ops {
 *   ping: Record<string, never>;
 *   'restart-service': { unit: 'nginx' | 'postgresql'; force?: boolean };
 * }
 * const client = await connect<Ops>(options);
 * ```
 */
export type Catalogue = object;

/** What a client without a catalogue type accepts: any action, any wire-valid arguments. */
export type UntypedCatalogue = Record<string, Record<string, ArgValue>>;

export type ActionOf<C extends Catalogue> = keyof C & string;

export type ArgsOf<C extends Catalogue, A extends ActionOf<C>> = C[A];
