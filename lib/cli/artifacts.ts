/**
 * The artifacts of a run, for `charmory-track show`: from the local store's journal, or from
 * the server's `artifacts/list`, folder by folder.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { TrackError } from '../Errors.js'
import { loadRun } from '../local/Store.js'
import type { MlflowConfig } from '../mlflow/Config.js'
import { httpClient, type Fetch, type HttpClient } from '../mlflow/Http.js'

/**
 * One artifact file: its path in the run and its size in bytes (unknown for some stores).
 * @category model
 * @since 0.2.0
 */
export interface ArtifactFile {
  readonly path: string
  readonly size: number | undefined
}

/**
 * The answer of `GET artifacts/list`.
 * @category codecs
 * @since 0.2.0
 */
export const ListArtifactsAnswer = t.partial({
  files: t.array(t.intersection([t.type({ path: t.string }), t.partial({ is_dir: t.boolean, file_size: t.union([t.number, t.string]) })])),
  next_page_token: t.string
})

const listFolder = (
  http: HttpClient,
  runId: string,
  path: string,
  out: Array<ArtifactFile>,
  pageToken?: string
): TE.TaskEither<TrackError, void> =>
  pipe(
    http.json(
      'GET',
      'mlflow/artifacts/list',
      { run_id: runId, ...(path === '' ? {} : { path }), ...(pageToken === undefined ? {} : { page_token: pageToken }) },
      ListArtifactsAnswer
    ),
    TE.flatMap((answer) => async (): Promise<E.Either<TrackError, void>> => {
      for (const f of answer.files ?? []) {
        if (f.is_dir === true) {
          const inner = await listFolder(http, runId, f.path, out)()
          if (E.isLeft(inner)) return inner
        } else {
          out.push({ path: f.path, size: f.file_size === undefined ? undefined : Number(f.file_size) })
        }
      }
      return answer.next_page_token === undefined
        ? E.right(undefined)
        : listFolder(http, runId, path, out, answer.next_page_token)()
    })
  )

/**
 * The artifact files of the run `runId` on the server of `config` (through `fetch`), sorted
 * by path (a run's paths are unique).
 * @category utils
 * @since 0.2.0
 */
export const serverArtifacts = (config: MlflowConfig, fetch: Fetch, runId: string): TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>> =>
  async () => {
    const http = httpClient({ baseUri: config.trackingUri, auth: config.auth, retry: config.retry, fetch, onRetry: () => undefined })
    const out: Array<ArtifactFile> = []
    const listed = await listFolder(http, runId, '', out)()
    return E.as([...out].sort((a, b) => (a.path < b.path ? -1 : 1)))(listed)
  }

/**
 * The artifact files of the run `runId` of the local store `dir`, sorted by path.
 * @category utils
 * @since 0.2.0
 */
export const localArtifacts = (dir: string, runId: string): TE.TaskEither<TrackError, ReadonlyArray<ArtifactFile>> =>
  TE.map((run: { readonly artifacts: ReadonlyArray<{ readonly path: string; readonly size: number }> }) => run.artifacts)(loadRun(dir, runId))
