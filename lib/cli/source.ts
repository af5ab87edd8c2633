/**
 * Where the reading commands (`show`, `compare`, `gate`) read runs: the local store, or the
 * MLflow server of `--from`.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { describeError, type TrackError } from '../Errors.js'
import { localQuery } from '../local/LocalQuery.js'
import type { RunQuery } from '../RunQuery.js'
import { localArtifacts, serverArtifacts, type ArtifactFile } from './artifacts.js'
import { localStoreOf, platformOf, withServer, type CliIo } from './io.js'

/**
 * Where runs are read: the local store's folder or the server's address, its queries, and the
 * listing of a run's artifacts.
 * @category model
 * @since 0.2.0
 */
export interface RunSource {
  readonly where: string
  readonly query: RunQuery
  readonly artifacts: (runId: string) => TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>>
}

/**
 * Runs `f` with the queries of the server `from` (with the environment's credentials), or of
 * the local store; yields its exit code, or 1 when `from` cannot be used. The server's client
 * is closed after `f`.
 * @category utils
 * @since 0.2.0
 */
export const withRuns = async (
  io: CliIo,
  from: string | undefined,
  failed: (e: TrackError) => number,
  f: (source: RunSource) => Promise<number>
): Promise<number> => {
  if (from === undefined) {
    const dir = localStoreOf(io)
    return f({ where: dir, query: localQuery(dir), artifacts: (runId) => localArtifacts(dir, runId) })
  }
  // a server that is not there fails the command in seconds, not after minutes of retries
  return withServer(io, from, { refusedRetries: 2 }, (server) => {
    if (E.isLeft(server)) return Promise.resolve(failed(server.left))
    const { sink, fetch } = server.right
    return f({ where: sink.config.trackingUri, query: sink.query, artifacts: (runId) => serverArtifacts(sink.config, fetch, platformOf(io), runId) })
  })
}

/**
 * JSON without NaN or infinities: they are written as MLflow writes them, as strings.
 * @category utils
 * @since 0.2.0
 */
export const toJson = (value: unknown): string =>
  `${JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`

