/**
 * A run's journal read back: each record in the order logged (`readJournal`, for the sync that
 * replays it), and the one fold of a journal into what the run holds (`foldJournal`), which the
 * reader (`loadRun`), the summaries and the local sink's queries share. A line that cannot be
 * read is skipped and reported with its line number; one bad line never hides the rest.
 * Identical metric points are one point (`MetricHistory`), so a journal that holds a run more
 * than once reads back as one copy; a run ends as its last `end` record says.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { decodeError, type DecodeError, type TrackError } from '../Errors.js'
import { isLater } from '../internal/query.js'
import { metricHistory, type MetricHistory } from '../MetricHistory.js'
import type { DatasetRecord, RunStatus } from '../Records.js'
import { JournalRecord, type StartRecord } from './Codecs.js'
import { decodeLine, readLines } from './Files.js'
import { journalPath } from './Layout.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One point of a metric's history.
 * @category model
 * @since 0.1.0
 */
export interface StoredPoint {
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/**
 * A line of a journal that could not be read, and its number.
 * @category model
 * @since 0.3.0
 */
export interface Unreadable {
  readonly line: number
  readonly error: DecodeError
}

/**
 * What a journal holds, folded: the start record (undefined when the journal has none yet, or
 * its first line cannot be read), params and tags, each metric's latest point (as MLflow picks it:
 * greatest step, then timestamp, then value), the whole histories asked for, artifacts with their
 * sizes, dataset inputs (one per name and digest), how the run ended, the length of the journal's
 * complete lines and the lines that could not be read. Maps keep `__proto__` and `constructor`
 * as keys like any other.
 * @category model
 * @since 0.3.0
 */
export interface RunFold {
  readonly start: StartRecord | undefined
  readonly params: ReadonlyMap<string, string>
  readonly tags: ReadonlyMap<string, string>
  readonly latest: ReadonlyMap<string, StoredPoint>
  readonly histories: ReadonlyMap<string, ReadonlyArray<StoredPoint>>
  readonly artifacts: ReadonlyMap<string, number>
  readonly inputs: ReadonlyArray<DatasetRecord>
  readonly status: RunStatus
  readonly endTime: number | undefined
  readonly journalBytes: number
  readonly unreadable: ReadonlyArray<Unreadable>
}

/**
 * Which metrics a fold keeps whole: every one, only those named, or none (the latest point of
 * each is kept in every case).
 * @category model
 * @since 0.3.0
 */
export type Histories = 'all' | ReadonlySet<string>

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const START_FIRST = 'a journal starts with its one "start" record'

/**
 * Calls `onRecord` with each decoded record of a run's journal and the byte offset just
 * after it. Yields the length of the journal's complete lines. A line that cannot be read (not
 * JSON, not a record of this format, a `start` record anywhere but on the first line, another
 * record there) is skipped and given to `onUnreadable` as a `DecodeError` naming the file and
 * line: one bad line never hides the rest of the run (since 0.3.0; it stopped the reading).
 * @category destructors
 * @since 0.1.0
 */
export const readJournal = (
  dir: string,
  runId: string,
  onRecord: (record: JournalRecord, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>,
  onUnreadable: (e: DecodeError, line: number) => void = () => undefined
): TE.TaskEither<TrackError, number> => {
  const file = journalPath(dir, runId)
  return readLines(file, (text, line, end) => {
    const record = E.flatMap((r: JournalRecord) =>
      (line === 1) === (r.t === 'start') ? E.right(r) : E.left(decodeError(`${file}:${line}`, 't', START_FIRST))
    )(decodeLine(JournalRecord, text, file, line))
    if (E.isRight(record)) return onRecord(record.right, end)
    onUnreadable(record.left as DecodeError, line)
    return E.right(undefined)
  })
}

/**
 * The journal of the run `runId` folded (see `RunFold`), keeping the metric `histories` asked for
 * whole.
 * @category destructors
 * @since 0.3.0
 */
export const foldJournal = (dir: string, runId: string, histories: Histories = new Set()): TE.TaskEither<TrackError, RunFold> => {
  let start: StartRecord | undefined
  let status: RunStatus = 'RUNNING'
  let endTime: number | undefined
  const params = new Map<string, string>()
  const tags = new Map<string, string>()
  const latest = new Map<string, StoredPoint>()
  const whole = new Map<string, MetricHistory<StoredPoint>>()
  const artifacts = new Map<string, number>()
  const inputs: Array<DatasetRecord> = []
  const unreadable: Array<Unreadable> = []
  const keepsWhole = (key: string): boolean => histories === 'all' || histories.has(key)
  const onRecord = (record: JournalRecord): E.Either<TrackError, void> => {
    switch (record.t) {
      case 'start':
        start = record
        for (const [k, v] of record.tags) tags.set(k, v)
        break
      case 'params':
        for (const [k, v] of record.params) params.set(k, v)
        break
      case 'tags':
        for (const [k, v] of record.tags) tags.set(k, v)
        break
      case 'metrics':
        for (const [key, value, timestamp, step] of record.m) {
          const point = { value, timestamp, step }
          const kept = latest.get(key)
          if (kept === undefined || isLater(kept, point)) latest.set(key, point)
          if (!keepsWhole(key)) continue
          let history = whole.get(key)
          if (history === undefined) whole.set(key, (history = metricHistory()))
          history.add(point)
        }
        break
      case 'artifact':
        artifacts.set(record.path, record.size)
        break
      case 'inputs':
        for (const d of record.datasets) if (!inputs.some((known) => known.name === d.name && known.digest === d.digest)) inputs.push(d)
        break
      case 'end':
        status = record.status
        endTime = record.endTime
    }
    return E.right(undefined)
  }
  return pipe(
    readJournal(dir, runId, onRecord, (error, line) => void unreadable.push({ line, error })),
    TE.map((journalBytes) => ({
      start,
      params,
      tags,
      latest,
      histories: new Map([...whole].map(([key, history]) => [key, history.points])),
      artifacts,
      inputs,
      status,
      endTime,
      journalBytes,
      unreadable
    }))
  )
}
