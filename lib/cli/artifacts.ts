/**
 * The artifacts of a run, for `charmory-track show`: from the local store's journal, or from
 * the server's `artifacts/list`, folder by folder.
 *
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TrackError } from '../Errors.js'
import { loadRun } from '../local/Store.js'
import { listArtifacts, type ArtifactFile } from '../mlflow/Api.js'
import type { MlflowConfig } from '../mlflow/Config.js'
import { httpClient } from '../mlflow/Http.js'
import type { Fetch, Platform } from '../platform/Platform.js'

export type { ArtifactFile } from '../mlflow/Api.js'

/**
 * The artifact files of the run `runId` on the server of `config` (through `fetch`), sorted
 * by path (a run's paths are unique).
 * @category utils
 * @since 0.2.0
 */
export const serverArtifacts = (
  config: MlflowConfig,
  fetch: Fetch,
  platform: Pick<Platform, 'clock' | 'timers' | 'random'>,
  runId: string
): TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>> =>
  listArtifacts(httpClient({ baseUri: config.trackingUri, auth: config.auth, retry: config.retry, fetch, platform, onRetry: () => undefined }), runId)

/**
 * The artifact files of the run `runId` of the local store `dir`, sorted by path.
 * @category utils
 * @since 0.2.0
 */
export const localArtifacts = (dir: string, runId: string): TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>> =>
  TE.map((run: { readonly artifacts: ReadonlyArray<{ readonly path: string; readonly size: number }> }) => run.artifacts)(loadRun(dir, runId))
