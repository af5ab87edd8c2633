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
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describeUnknown, fileError, notFound, type TrackError } from '../Errors.js'
import { queryOver } from '../Query.js'
import type { HeldRun, RunQuery } from '../RunQuery.js'
import * as Codecs from './Codecs.js'
import * as Files from './Files.js'
import * as Journal from './Journal.js'
import * as Registry from './Registry.js'
import * as Summary from './Summary.js'

/** A record without a prototype: `__proto__` and `constructor` are keys like any other. */
const recordOf = <A>(m: ReadonlyMap<string, A>): Record<string, A> => Object.assign(Object.create(null) as Record<string, A>, Object.fromEntries(m))

/** A run of the store with the whole history of the metric `history`, or undefined when its folder holds no journal yet. */
const readRun = (dir: string, runId: string, history: string): TE.TaskEither<TrackError, HeldRun | undefined> =>
  TE.map((fold: Journal.RunFold): HeldRun | undefined => {
    const { start } = fold
    if (start === undefined) return undefined
    const metrics = new Map([...fold.latest].map(([key, point]): [string, ReadonlyArray<Journal.StoredPoint>] => [key, [point]]))
    for (const [key, points] of fold.histories) metrics.set(key, points)
    return {
      runId,
      experimentId: start.experimentId,
      runName: start.runName,
      status: fold.status,
      startTime: start.startTime,
      endTime: fold.endTime,
      params: recordOf(fold.params),
      tags: recordOf(fold.tags),
      metrics: recordOf(metrics)
    }
  })(Journal.foldJournal(dir, runId, new Set([history])))

/** A run as a search sees it, from its summary. */
const summarized = (dir: string, runId: string): TE.TaskEither<TrackError, HeldRun | undefined> =>
  TE.map((s: Codecs.SummaryFile | undefined) =>
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
  )(Summary.readSummary(dir, runId))

const runIds = (dir: string): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
  TE.tryCatch(
    () =>
      readdir(join(dir, 'runs')).then(
        (names) => names.filter((n) => Codecs.RunId.is(n)).sort(),
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
    experiments: () => Registry.listExperiments(dir),
    runs: () =>
      pipe(
        runIds(dir),
        TE.flatMap(Files.traverseWide(32, (id: string) => summarized(dir, id))),
        TE.map((runs) => runs.filter((r): r is HeldRun => r !== undefined))
      ),
    run: (runId, history) =>
      pipe(
        !Codecs.RunId.is(runId) ? TE.right(undefined) : history === undefined ? summarized(dir, runId) : readRun(dir, runId, history),
        TE.flatMap((r) => (r === undefined ? TE.left(notFound('run', runId)) : TE.right(r)))
      )
  })
