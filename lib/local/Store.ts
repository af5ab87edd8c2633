/**
 * The local run store: where `localSink` keeps runs on this machine (by default
 * `$ARMORY_HOME/mlruns`, `ARMORY_HOME` defaulting to `~/.armory`), and the API that reads it
 * back (`listExperiments`, `listRuns`, `loadRun`, `readArtifact`), used by the
 * `charmory-track` command, by `syncStore` and by tests.
 *
 * The format is this library's own (MLflow's `mlruns` file store is deprecated), append-only,
 * and readable while it is being written:
 *
 * ```
 * <dir>/charmory-store.json            {"format":"charmory-track-local-store","version":1}
 * <dir>/experiments/<experimentId>.json {"experimentId":"…","name":"…"}
 * <dir>/runs/<runId>/journal.jsonl     the run, one JSON record a line, in the order logged
 * <dir>/runs/<runId>/sync.jsonl        what was pushed where: {"target","remoteRunId","offset"}
 * <dir>/runs/<runId>/summary.json      what listing the run needs (`SummaryFile`; since 0.2.0)
 * <dir>/runs/<runId>/artifacts/<path>  the run's artifacts, copied in
 * ```
 *
 * Journal records, each tagged by `t`:
 * - `{"t":"start","format":1,"runId","experimentId","runName","startTime","tags":[[k,v],…]}`,
 *   always the first line;
 * - `{"t":"params","params":[[k,v],…]}` and `{"t":"tags","tags":[[k,v],…]}`;
 * - `{"t":"metrics","m":[[key,value,timestamp,step],…]}` (a value that JSON cannot hold is
 *   the string `"NaN"`, `"Infinity"` or `"-Infinity"`);
 * - `{"t":"artifact","path","size"}`, appended once the file is in place;
 * - `{"t":"inputs","datasets":[{"name","digest","sourceType","source","schema"?,"profile"?,"tags":[[k,v],…]},…]}`
 *   (dataset inputs, since 0.2.0; journals without them read as before);
 * - `{"t":"end","status","endTime"}`.
 *
 * A run without an `end` record has not finished (status `RUNNING`); one with several ended as
 * the last says. Identical metric points (key, value, timestamp, step) are one point, as MLflow
 * stores them, so a journal that holds a run more than once (a sync before 0.3 into a journaling
 * sink could append a run to itself) reads back as one copy. A last line without its
 * newline was torn by a crash while being written: readers ignore it, and a writer that
 * reopens the run cuts it off first. Any other line that cannot be read (not JSON, not a record
 * of this format) is skipped and reported, and the rest is read: `listRuns` and `loadRun` give
 * each such line as a `DecodeError` naming the file and line (`RunSummary.unreadable`), and so
 * do `syncStore`'s report and the command; one bad line never hides a run or a store. Only a
 * journal whose first line (its `start` record) cannot be read leaves its run out of the
 * listings and searches, as a run folder without a journal is; `loadRun` names that line. An experiment's id is derived from its name and its file is
 * created with an atomic `link`, so processes creating the same experiment at once agree;
 * runs live in folders of their own, so processes writing runs at once never share a file.
 * `sync.jsonl` records how many bytes of the journal a target has confirmed: a run is synced
 * to a target when that offset reaches the end of its journal. `summary.json` is a cache kept
 * by the readers (`listRuns`, the local sink's searches): the run's name, status, times,
 * params, tags and each metric's latest point, and the journal length it covers. A summary
 * that covers the whole journal is current (a journal only grows); one that is missing, does
 * not decode or is behind is rebuilt from the journal and written back, so listing a store
 * reads each journal once, not at every listing.
 *
 * @example
 * import { LocalStore, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink: localSink({ dir }) })
 * const runs = await LocalStore.listRuns(dir)()
 * assert.ok(E.isRight(runs))
 * assert.deepStrictEqual(
 *   runs.right.map((r) => [r.experimentName, r.status, r.metrics, r.synced]),
 *   [['demo', 'FINISHED', 1, false]]
 * )
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { validateArtifactPath } from '../ArtifactPath.js'
import { decodeError, describeUnknown, fileError, notFound, type DecodeError, type TrackError } from '../Errors.js'
import type { DatasetRecord, RunStatus } from '../Records.js'
import { RunId } from './Codecs.js'
import { byText, isMissing, listDir, traverseWide } from './Files.js'
import { foldJournal, type StoredPoint } from './Journal.js'
import { artifactFile, journalPath } from './Layout.js'
import { readExperiment, readSyncStates, type StoredExperiment, type SyncState } from './Registry.js'
import { readSummary } from './Summary.js'

export { defaultStoreDir, armoryHome } from './Layout.js'
export { listExperiments } from './Registry.js'
export type { StoredExperiment, SyncState } from './Registry.js'
export type { StoredPoint } from './Journal.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One line of the run table.
 * @category model
 * @since 0.1.0
 */
export interface RunSummary {
  readonly runId: string
  readonly experimentId: string
  readonly experimentName: string
  readonly runName: string
  readonly status: RunStatus
  readonly startTime: number
  readonly endTime: number | undefined
  /** How many params, and how many distinct metric keys. */
  readonly params: number
  readonly metrics: number
  readonly parentRunId: string | undefined
  /** The length of the journal's complete lines, in bytes. */
  readonly journalBytes: number
  /** The latest state per target, in the order first synced. */
  readonly sync: ReadonlyArray<SyncState>
  /** Every byte of the journal confirmed by some target. */
  readonly synced: boolean
  /**
   * The journal's lines that could not be read (not JSON, not a record of this format), each a
   * `DecodeError` naming the file and line: they are skipped, and the rest of the run is read.
   * Since 0.3.0.
   */
  readonly unreadable: ReadonlyArray<DecodeError>
}

/**
 * A run read back whole.
 * @category model
 * @since 0.1.0
 */
export interface StoredRun extends RunSummary {
  readonly paramValues: Readonly<Record<string, string>>
  readonly metricHistories: Readonly<Record<string, ReadonlyArray<StoredPoint>>>
  readonly tags: Readonly<Record<string, string>>
  /** Artifact paths with their sizes in bytes, sorted by path. */
  readonly artifacts: ReadonlyArray<{ readonly path: string; readonly size: number }>
  /** Dataset inputs, in the order logged, one per name and digest (since 0.2.0). */
  readonly inputs: ReadonlyArray<DatasetRecord>
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** A run's line of the table, from its summary, its sync states and its experiment's name. */
const summaryLine = (
  dir: string,
  runId: string,
  names: Map<string, Promise<E.Either<TrackError, StoredExperiment | undefined>>>
): TE.TaskEither<TrackError, RunSummary | undefined> =>
  pipe(
    readSummary(dir, runId),
    TE.flatMap((summary) => {
      if (summary === undefined) return TE.right(undefined)
      const { start } = summary
      const name = (): Promise<E.Either<TrackError, StoredExperiment | undefined>> => {
        const known = names.get(start.experimentId) ?? readExperiment(dir, start.experimentId)()
        names.set(start.experimentId, known)
        return known
      }
      return pipe(
        readSyncStates(dir, runId),
        TE.bindTo('sync'),
        TE.bind('experiment', () => name),
        TE.map(({ sync, experiment }) => ({
          runId: start.runId,
          experimentId: start.experimentId,
          experimentName: experiment?.name ?? start.experimentId,
          runName: start.runName,
          status: summary.status,
          startTime: start.startTime,
          endTime: summary.endTime ?? undefined,
          params: Object.keys(summary.params).length,
          metrics: Object.keys(summary.latest).length,
          parentRunId: summary.tags['mlflow.parentRunId'],
          journalBytes: summary.journalBytes,
          sync,
          synced: sync.some((s) => s.offset >= summary.journalBytes),
          unreadable: (summary.unreadable ?? []).map(([line, path, message]) =>
            decodeError(`${journalPath(dir, runId)}:${line}`, path, message) as DecodeError
          )
        }))
      )
    })
  )

/**
 * Every run of the store (or of the experiment named `experiment`), newest first, from the
 * runs' summaries (see the module's description). A run folder whose creation was cut short
 * (no journal yet) is left out.
 * @category destructors
 * @since 0.1.0
 */
export const listRuns = (
  dir: string,
  filter: { readonly experiment?: string } = {}
): TE.TaskEither<TrackError, ReadonlyArray<RunSummary>> =>
  pipe(
    listDir(join(dir, 'runs')),
    TE.flatMap((ids) => {
      const names = new Map<string, Promise<E.Either<TrackError, StoredExperiment | undefined>>>()
      return traverseWide(32, (id: string) => summaryLine(dir, id, names))(ids)
    }),
    TE.map((runs) =>
      runs
        .flatMap((r) => (r === undefined || (filter.experiment !== undefined && r.experimentName !== filter.experiment) ? [] : [r]))
        .sort((a, b) => b.startTime - a.startTime || byText(a.runId, b.runId))
    )
  )

/**
 * The run `runId` whole: params, full metric histories, tags, artifacts, status, times, its
 * parent, how far it was synced and the lines of its journal that could not be read. `NotFound`
 * when the store has no such run; the `DecodeError` of its first line when that cannot be read
 * (nothing of the run can be told then).
 * @category destructors
 * @since 0.1.0
 */
export const loadRun = (dir: string, runId: string): TE.TaskEither<TrackError, StoredRun> =>
  E.isLeft(RunId.decode(runId))
    ? TE.left(notFound('run', runId))
    : pipe(
        foldJournal(dir, runId, 'all'),
        TE.bindTo('fold'),
        TE.bind('sync', () => readSyncStates(dir, runId)),
        TE.bind('experiment', ({ fold }) => (fold.start === undefined ? TE.right(undefined) : readExperiment(dir, fold.start.experimentId))),
        TE.flatMap(({ fold, sync, experiment }): TE.TaskEither<TrackError, StoredRun> => {
          const { start } = fold
          const [first] = fold.unreadable
          if (start === undefined) return TE.left(first === undefined ? notFound('run', runId) : first.error)
          return TE.right({
            runId: start.runId,
            experimentId: start.experimentId,
            experimentName: experiment?.name ?? start.experimentId,
            runName: start.runName,
            status: fold.status,
            startTime: start.startTime,
            endTime: fold.endTime,
            params: fold.params.size,
            metrics: fold.latest.size,
            parentRunId: fold.tags.get('mlflow.parentRunId'),
            journalBytes: fold.journalBytes,
            sync,
            synced: sync.some((s) => s.offset >= fold.journalBytes),
            unreadable: fold.unreadable.map((u) => u.error),
            paramValues: Object.fromEntries(fold.params),
            metricHistories: Object.fromEntries(fold.histories),
            tags: Object.fromEntries(fold.tags),
            artifacts: [...fold.artifacts].sort(([a], [b]) => byText(a, b)).map(([path, size]) => ({ path, size })),
            inputs: fold.inputs
          })
        })
      )

/**
 * The bytes of one artifact of a run.
 * @category destructors
 * @since 0.1.0
 */
export const readArtifact = (dir: string, runId: string, path: string): TE.TaskEither<TrackError, Uint8Array> =>
  pipe(
    TE.fromEither(validateArtifactPath(path)),
    TE.flatMap((p) =>
      E.isLeft(RunId.decode(runId))
        ? TE.left(notFound('run', runId))
        : TE.tryCatch(
            async () => new Uint8Array(await readFile(artifactFile(dir, runId, p))),
            (e) => (isMissing(e) ? notFound('artifact', `${runId}/${p}`) : fileError(artifactFile(dir, runId, p), describeUnknown(e)))
          )
    )
  )
