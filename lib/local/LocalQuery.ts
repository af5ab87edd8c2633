/**
 * The queries of the local sink: its store read from disk at each call. A search reads the
 * runs' summaries (`summary.json`, rebuilt from a journal that grew since), which hold each
 * metric's latest point only; a run's metric history is read from its journal, one journal at
 * a time, so that a search costs no memory for long metric histories. A journal line that
 * cannot be read is skipped (`listRuns` and `loadRun` name it), and a run whose first line
 * cannot be read is not found, as a run whose folder holds no journal yet.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type * as t from 'io-ts/lib/index.js'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describeUnknown, fileError, notFound, type TrackError } from '../Errors.js'
import * as L from './Store.js'
import { metricHistory } from '../MetricHistory.js'
import { isLater, queryOver, type HeldRun, type RunQuery } from '../Query.js'
import type { RunStatus } from '../Sink.js'

type Point = { value: number; step: number; timestamp: number }

/** A run of the store, or undefined when its folder holds no journal yet. */
const readRun = (dir: string, runId: string, history: string | undefined): TE.TaskEither<TrackError, HeldRun | undefined> => {
  let start: t.TypeOf<typeof L.StartRecord> | undefined
  let status: RunStatus = 'RUNNING'
  let endTime: number | undefined
  // without a prototype, `__proto__` and `constructor` are keys like any other
  const params: Record<string, string> = Object.create(null)
  const tags: Record<string, string> = Object.create(null)
  const metrics = new Map<string, Array<Point>>()
  // the metric asked for whole, identical points once (a journal may hold a run's points twice)
  const asked = metricHistory<Point>()
  const onRecord = (record: L.JournalRecord): E.Either<TrackError, void> => {
    switch (record.t) {
      case 'start':
        start = record
        for (const [k, v] of record.tags) tags[k] = v
        break
      case 'params':
        for (const [k, v] of record.params) params[k] = v
        break
      case 'tags':
        for (const [k, v] of record.tags) tags[k] = v
        break
      case 'metrics':
        for (const [key, value, timestamp, step] of record.m) {
          const point = { value, timestamp, step }
          const kept = metrics.get(key)
          if (key === history) asked.add(point)
          else if (kept === undefined) metrics.set(key, [point])
          else if (isLater(kept[0]!, point)) kept[0] = point
        }
        break
      case 'end':
        status = record.status
        endTime = record.endTime
    }
    return E.right(undefined)
  }
  return pipe(
    L.readJournal(dir, runId, onRecord),
    TE.map(() =>
      start === undefined
        ? undefined
        : {
            runId,
            experimentId: start.experimentId,
            runName: start.runName,
            status,
            startTime: start.startTime,
            endTime,
            params,
            tags,
            // `asked` is fed only when a metric was asked for
            metrics: Object.fromEntries(asked.points.length === 0 ? metrics : new Map([...metrics, [history!, asked.points]]))
          }
    )
  )
}

/** A run as a search sees it, from its summary. */
const summarized = (dir: string, runId: string): TE.TaskEither<TrackError, HeldRun | undefined> =>
  TE.map((s: L.SummaryFile | undefined) =>
    s === undefined
      ? undefined
      : {
          runId,
          experimentId: s.start.experimentId,
          runName: s.start.runName,
          status: s.status,
          startTime: s.start.startTime,
          endTime: s.endTime ?? undefined,
          params: s.params,
          tags: s.tags,
          metrics: Object.fromEntries(Object.entries(s.latest).map(([k, [value, timestamp, step]]) => [k, [{ value, timestamp, step }]]))
        }
  )(L.readSummary(dir, runId))

const runIds = (dir: string): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
  TE.tryCatch(
    () =>
      readdir(join(dir, 'runs')).then(
        (names) => names.filter((n) => L.RunId.is(n)).sort(),
        (e: unknown) => ((e as { code?: unknown }).code === 'ENOENT' ? [] : Promise.reject(e))
      ),
    (e) => fileError(join(dir, 'runs'), describeUnknown(e))
  )

/**
 * The queries of the store in `dir`.
 * @category constructors
 * @since 0.2.0
 */
export const localQuery = (dir: string): RunQuery =>
  queryOver({
    experiments: () => L.listExperiments(dir),
    runs: () =>
      pipe(
        runIds(dir),
        TE.flatMap(L.traverseWide(32, (id: string) => summarized(dir, id))),
        TE.map((runs) => runs.filter((r): r is HeldRun => r !== undefined))
      ),
    run: (runId, history) =>
      pipe(
        !L.RunId.is(runId) ? TE.right(undefined) : history === undefined ? summarized(dir, runId) : readRun(dir, runId, history),
        TE.flatMap((r) => (r === undefined ? TE.left(notFound('run', runId)) : TE.right(r)))
      )
  })
