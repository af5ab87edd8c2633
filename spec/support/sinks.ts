// Sinks built for a spec that uses them directly (not only through `run`).
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describeError, openSink, type Platform, type Sink, type SinkDescription, type TrackError } from 'charmory-track'

/**
 * `description` built on Node's platform with `overrides`; a build error fails the spec. A
 * spec that uses a sink directly does not want it journaled in the user's store: there is no
 * local store unless `overrides` gives one.
 */
export const built = async <S extends Sink>(
  description: SinkDescription<S>,
  overrides: Partial<Platform> = {}
): Promise<S & { readonly close: () => Promise<void> }> => {
  const opened = await openSink(description, { localStore: undefined, ...overrides })
  if (E.isLeft(opened)) throw new Error(`${description.name} could not be built: ${describeError(opened.left)}`)
  return opened.right
}

/** A sink that fails every operation with `error`. */
export const failing = (error: TrackError): Sink => ({
  name: `unusable (${error._tag})`,
  experiment: () => TE.left(error),
  openRun: () => TE.left(error),
  reopenRun: () => TE.left(error)
})
