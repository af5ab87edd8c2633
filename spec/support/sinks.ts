// Sinks built for a spec that uses them directly (not only through `run`).
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, Platform, Runtime, Sink, nodePlatform } from 'charmory-track'

/**
 * `description` built on Node's platform with `overrides`; a build error fails the spec. A
 * spec that uses a sink directly does not want it journaled in the user's store: there is no
 * local store unless `services` gives one.
 */
export const built = async <S extends Sink.Sink>(
  description: Sink.SinkDescription<S>,
  overrides: Partial<Platform.Platform> = {},
  services: Runtime.Services = {}
): Promise<S & { readonly close: () => Promise<void> }> => {
  const opened = await Runtime.runIn({ ...nodePlatform, ...overrides }, services).openSink(description)
  if (E.isLeft(opened)) throw new Error(`${description.name} could not be built: ${Errors.describeError(opened.left)}`)
  return opened.right
}

/** A sink that fails every operation with `error`. */
export const failing = (error: Errors.TrackError): Sink.Sink => ({
  name: `unusable (${error._tag})`,
  experiment: () => TE.left(error),
  openRun: () => TE.left(error),
  reopenRun: () => TE.left(error)
})
