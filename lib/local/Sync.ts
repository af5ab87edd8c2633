/**
 * `syncStore`: pushes the runs of a local store into any `Sink` (an MLflow server, in
 * practice), replaying each run's journal: the run is opened with its name, start time and
 * tags, then gets its params, every metric point (value, step, timestamp), tags and artifacts
 * in the order they were logged, and ends with its status and end time. Parents are pushed
 * before their children, whose `mlflow.parentRunId` is rewritten to the parent's id on the
 * target.
 *
 * Progress is kept in the store (`sync.jsonl`, see `LocalStore`): the target's run id as soon
 * as the run is created there, and how many bytes of the journal the target has confirmed,
 * after every `checkpointBytes` and at the end. A second sync sends nothing; an interrupted
 * one resumes from the last checkpoint in the run it had created. A run that was journaled
 * under a server's run id and that the target holds under the same id (another address of that
 * server, a replica on its database) is completed in place from where that server confirmed,
 * not pushed again as a second run. What was sent after that
 * checkpoint is sent again, which an MLflow server absorbs (identical params are accepted,
 * identical metric points are stored once, tags and artifacts are overwritten).
 *
 * A target that mirrors its runs into a local store (`Journaled`: an `mlflowSink` with its
 * journal, `withLocalJournal`, `withLocalFallback`, `sinkFromEnv` over a server) is not written
 * through: the sync sends to the sink it mirrors (`unmirrored`) and keeps progress under that
 * sink's name, so one server is one target in `sync.jsonl` whichever sink reaches it. What the
 * sync replays is in a store already; journaling it again would append to the journal being
 * read (the very run, once adopted) and the sync would feed itself. As a safeguard for a sink
 * that journals into the store without saying so, a sync sends a run's journal only up to the
 * length it had when the sync listed it: what is appended meanwhile waits for the next sync.
 *
 * Each metric point is sent once, also from a journal that holds a run more than once (as a
 * sync before 0.3 into a journaling sink could leave it) and by a sync that resumes: identical
 * points (key, value, timestamp, step) are one point, as on an MLflow server. A metric whose
 * points come in order costs nothing to tell; only the points of a metric logged out of order
 * are remembered while its run is sent.
 *
 * A target that cannot be reached stops the sync with that error; any other failure of one
 * run (an artifact the target refuses, a file gone from the store) is reported with the run
 * and the sync goes on with the next. A run that had ended locally is then ended on the
 * target too, with the local status and end time, so that it is not left `RUNNING` there; it
 * stays unconfirmed, so a later sync tries the rest again.
 *
 * @example
 * import { syncStore, memorySink, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink: localSink({ dir }) })
 * const target = memorySink()
 * const report = await syncStore(dir, target)()
 * assert.ok(E.isRight(report))
 * assert.deepStrictEqual(
 *   report.right.runs.map((r) => [r.metrics, r.params, r.error]),
 *   [[1, 1, undefined]] // the metric accuracy, the param charmory-track.version
 * )
 * assert.strictEqual(target.snapshot().runs.length, 1)
 *
 * // a second sync has nothing left to send
 * const again = await syncStore(dir, target)()
 * assert.deepStrictEqual(E.map((r: { runs: ReadonlyArray<unknown> }) => r.runs.length)(again), E.right(0))
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { invalidValue, unsupported, type TrackError } from '../Errors.js'
import * as L from './Store.js'
import * as Codecs from './Codecs.js'
import * as Journal from './Journal.js'
import * as Registry from './Registry.js'
import type { Entry } from '../ParamValue.js'
import { unmirrored, type RunSink, type Sink } from '../Sink.js'
import { isUnreachable } from './Fallback.js'
import { comparePoints, metricHistory, type MetricHistory, type Point } from '../MetricHistory.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `syncStore`.
 * @category model
 * @since 0.1.0
 */
export interface SyncOptions {
  /** Count what would be sent, without contacting the target or writing progress. */
  readonly dryRun?: boolean
  /** The name progress is kept under; by default the `name` of the sink runs are sent to (`unmirrored(target)`). */
  readonly target?: string
  /** Called as the sync moves through the journals. */
  readonly onProgress?: (progress: SyncProgress) => void
  /** Journal bytes between two checkpoints (flush, then record progress); 4 MiB. */
  readonly checkpointBytes?: number
}

/**
 * Where a sync is: `bytesDone` of `bytes` journal bytes to push, in run `runsDone + 1` of `runs`.
 * @category model
 * @since 0.1.0
 */
export interface SyncProgress {
  readonly runId: string
  readonly runs: number
  readonly runsDone: number
  readonly bytes: number
  readonly bytesDone: number
}

/**
 * What one run's sync sent (or, in a dry run, would send).
 * @category model
 * @since 0.1.0
 */
export interface RunSync {
  readonly runId: string
  /** The run's id on the target, once it exists there. */
  readonly remoteRunId: string | undefined
  readonly params: number
  /** Metric points, each identical point once. */
  readonly metrics: number
  readonly tags: number
  readonly artifacts: number
  /** Why this run could not be synced (the others went on). */
  readonly error: TrackError | undefined
  /** The journal lines that could not be read, skipped: the rest was sent (`RunSummary`). Since 0.3.0. */
  readonly unreadable: L.RunSummary['unreadable']
}

/**
 * What `syncStore` did: the target's name, whether it was a dry run, and one entry per run it
 * looked at.
 * @category model
 * @since 0.1.0
 */
export interface SyncReport {
  /** The name progress is kept under (the option `target`, or the `name` of the sink runs were sent to). */
  readonly target: string
  readonly dryRun: boolean
  /** Every run that was not synced to the target before, parents first. */
  readonly runs: ReadonlyArray<RunSync>
}

interface Context {
  readonly dryRun: boolean
  readonly dir: string
  readonly target: Sink
  readonly key: string
  readonly checkpointBytes: number
  /** Local run id -> its id on the target. */
  readonly remoteIds: Map<string, string>
  readonly localIds: ReadonlySet<string>
  readonly advance: (runId: string, bytes: number) => void
}

type StartRecord = Extract<Codecs.JournalRecord, { t: 'start' }>
type MetricsRecord = Extract<Codecs.JournalRecord, { t: 'metrics' }>

interface Counts {
  params: number
  metrics: number
  tags: number
  artifacts: number
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The runs not yet wholly confirmed by `key`, each after its parent. */
const pending = (runs: ReadonlyArray<L.RunSummary>, key: string): ReadonlyArray<L.RunSummary> => {
  const byId = new Map(runs.map((r) => [r.runId, r]))
  const depth = (r: L.RunSummary): number => {
    let d = 0
    for (let p = byId.get(r.parentRunId ?? ''); p !== undefined && d <= runs.length; p = byId.get(p.parentRunId ?? '')) d++
    return d
  }
  return runs
    .filter((r) => (r.sync.find((s) => s.target === key)?.offset ?? 0) < r.journalBytes)
    .map((r) => ({ r, d: depth(r) }))
    .sort((a, b) => a.d - b.d || a.r.startTime - b.r.startTime)
    .map(({ r }) => r)
}

const stateOf = (run: L.RunSummary, key: string): L.SyncState | undefined => run.sync.find((s) => s.target === key)

/**
 * A run journaled under a server's run id (by the journal or the offline fallback) that the
 * target also holds under that id is the same run, reached at another address: a replica of
 * that server on the same database. The sync goes on in it from where that server confirmed,
 * rather than pushing a second copy of the run. (MLflow's run ids are random UUIDs.)
 */
const adopt = async (ctx: Context, run: L.RunSummary): Promise<L.SyncState | undefined> => {
  const known = run.sync.filter((s) => s.remoteRunId === run.runId)
  if (known.length === 0 || ctx.dryRun) return undefined
  const there = await ctx.target.reopenRun(run.runId)()
  if (E.isLeft(there)) return undefined
  const state = { target: ctx.key, remoteRunId: run.runId, offset: Math.max(...known.map((s) => s.offset)) }
  ctx.remoteIds.set(run.runId, run.runId)
  // kept so that a later sync need not ask again; if it cannot be written, it asks again
  await Registry.recordSyncState(ctx.dir, run.runId, state)()
  return state
}

/** A parent link to a local run points at that run's id on the target instead. */
const rewriteParent = (ctx: Context, tags: ReadonlyArray<Entry>): E.Either<TrackError, ReadonlyArray<Entry>> => {
  const out: Array<Entry> = []
  for (const [key, value] of tags) {
    if (key !== 'mlflow.parentRunId' || !ctx.localIds.has(value)) {
      out.push([key, value])
      continue
    }
    const remote = ctx.remoteIds.get(value)
    if (remote === undefined) {
      return E.left(invalidValue(key, `the parent run ${value} is not synced to ${ctx.key}; it must be synced first`))
    }
    out.push([key, remote])
  }
  return E.right(out)
}

/**
 * The metric keys of a run with a point that does not come after the key's point before it
 * (`comparePoints`): only their points can repeat. A metric logged in order is sent without
 * its points being remembered.
 */
const unorderedKeys = (dir: string, runId: string): TE.TaskEither<TrackError, ReadonlySet<string>> => {
  const last = new Map<string, Point>()
  const keys = new Set<string>()
  return pipe(
    Journal.readJournal(dir, runId, (record) => {
      if (record.t !== 'metrics') return E.right(undefined)
      for (const [key, value, timestamp, step] of record.m) {
        const point = { value, timestamp, step }
        const before = last.get(key)
        if (before !== undefined && comparePoints(before, point) >= 0) keys.add(key)
        last.set(key, point)
      }
      return E.right(undefined)
    }),
    TE.as(keys)
  )
}

/**
 * The points of a journal's `metrics` records not seen before in it, for a journal that may
 * hold a run's points more than once (an MLflow server stores identical points once anyway):
 * the histories of the `unordered` keys are kept to tell.
 */
const firstSeen = (unordered: ReadonlySet<string>) => {
  const histories = new Map<string, MetricHistory<Point>>()
  return (points: MetricsRecord['m']): MetricsRecord['m'] =>
    unordered.size === 0
      ? points
      : points.filter(([key, value, timestamp, step]) => {
          if (!unordered.has(key)) return true
          let history = histories.get(key)
          if (history === undefined) histories.set(key, (history = metricHistory()))
          return history.add({ value, timestamp, step })
        })
}

const count = (counts: Counts, record: Codecs.JournalRecord): void => {
  if (record.t === 'start') counts.tags += record.tags.length
  if (record.t === 'params') counts.params += record.params.length
  if (record.t === 'tags') counts.tags += record.tags.length
  if (record.t === 'metrics') counts.metrics += record.m.length
  if (record.t === 'artifact') counts.artifacts += 1
}

// -------------------------------------------------------------------------------------
// replay
// -------------------------------------------------------------------------------------

/** Replays one run's journal from where the target left off (in a dry run, counts it). */
const replay = async (ctx: Context, run: L.RunSummary): Promise<RunSync> => {
  const state = stateOf(run, ctx.key) ?? (await adopt(ctx, run))
  const counts: Counts = { params: 0, metrics: 0, tags: 0, artifacts: 0 }
  let confirmed = state?.offset ?? 0
  let remoteRunId = state?.remoteRunId ?? ''
  let open: RunSink | undefined
  let seen = confirmed

  const confirm = (offset: number): TE.TaskEither<TrackError, void> =>
    pipe(
      Registry.recordSyncState(ctx.dir, run.runId, { target: ctx.key, remoteRunId, offset }),
      TE.map(() => void (confirmed = offset))
    )
  const current: TE.TaskEither<TrackError, RunSink> = async () => {
    if (open !== undefined) return E.right(open)
    const reopened = await ctx.target.reopenRun(remoteRunId)()
    if (E.isRight(reopened)) open = reopened.right
    return reopened
  }
  const start = (record: StartRecord, end: number): TE.TaskEither<TrackError, void> =>
    pipe(
      TE.fromEither(rewriteParent(ctx, record.tags)),
      TE.bindTo('tags'),
      TE.bind('experimentId', () => ctx.target.experiment(run.experimentName)),
      TE.flatMap(({ tags, experimentId }) =>
        ctx.target.openRun({ experimentId, runName: record.runName, startTime: record.startTime, tags })
      ),
      TE.flatMap((opened) => {
        open = opened
        remoteRunId = opened.runId
        ctx.remoteIds.set(run.runId, opened.runId)
        return confirm(end)
      })
    )
  const apply = (record: Codecs.JournalRecord, end: number): TE.TaskEither<TrackError, void> => {
    switch (record.t) {
      case 'start':
        return start(record, end)
      case 'params':
        return pipe(current, TE.flatMap((s) => s.logParams(record.params)))
      case 'tags':
        return pipe(
          TE.fromEither(rewriteParent(ctx, record.tags)),
          TE.flatMap((tags) => pipe(current, TE.flatMap((s) => s.setTags(tags))))
        )
      case 'metrics':
        return record.m.length === 0
          ? TE.right(undefined)
          : pipe(
              current,
              TE.flatMap((s) => s.logMetrics(record.m.map(([key, value, timestamp, step]) => ({ key, value, timestamp, step }))))
            )
      case 'artifact':
        return pipe(
          L.readArtifact(ctx.dir, run.runId, record.path),
          TE.flatMap((bytes) => pipe(current, TE.flatMap((s) => s.logArtifact(record.path, bytes))))
        )
      case 'inputs':
        return pipe(
          current,
          TE.flatMap((s) =>
            s.logInputs === undefined ? TE.left(unsupported('dataset inputs', ctx.target.name)) : s.logInputs(record.datasets)
          )
        )
      case 'end':
        return pipe(
          current,
          TE.flatMap((s) => s.end(record.status, record.endTime)),
          TE.flatMap(() => {
            open = undefined
            return confirm(end)
          })
        )
    }
  }
  const checkpoint = (end: number): TE.TaskEither<TrackError, void> =>
    open === undefined || end - confirmed < ctx.checkpointBytes
      ? TE.right(undefined)
      : pipe(open.flush(), TE.flatMap(() => confirm(end)))

  const walk = (fresh: (points: MetricsRecord['m']) => MetricsRecord['m']): TE.TaskEither<TrackError, number> =>
    Journal.readJournal(ctx.dir, run.runId, async (read, end) => {
      // what the journal holds past its listed length waits for the next sync (see `syncStore`)
      if (end > run.journalBytes) return E.right(undefined)
      // every point is looked at, also before `seen`, so that each is sent once
      const record = read.t === 'metrics' ? { ...read, m: fresh(read.m) } : read
      if (end <= seen) return E.right(undefined)
      const applied = ctx.dryRun ? E.right(undefined) : await pipe(apply(record, end), TE.flatMap(() => checkpoint(end)))()
      if (E.isLeft(applied)) return applied
      count(counts, record)
      ctx.advance(run.runId, end - seen)
      seen = end
      return applied
    })

  const walked = await pipe(
    unorderedKeys(ctx.dir, run.runId),
    TE.flatMap((keys) => walk(firstSeen(keys))),
    TE.flatMap((complete) => {
      const walkedTo = Math.min(complete, run.journalBytes)
      return ctx.dryRun || confirmed >= walkedTo
        ? TE.right(undefined)
        : pipe(current, TE.flatMap((s) => s.flush()), TE.flatMap(() => confirm(walkedTo)))
    })
  )()
  if (E.isLeft(walked) && !isUnreachable(walked.left)) await endAsLocal(run, remoteRunId === '' ? undefined : current)
  return {
    runId: run.runId,
    remoteRunId: remoteRunId === '' ? undefined : remoteRunId,
    ...counts,
    error: E.isLeft(walked) ? walked.left : undefined,
    unreadable: run.unreadable
  }
}

/**
 * Ends the target's copy of a run whose sync failed midway the way the local run ended; the
 * sync's own error is what the report gives, so a failure here adds nothing to it.
 */
const endAsLocal = async (run: L.RunSummary, target: TE.TaskEither<TrackError, RunSink> | undefined): Promise<void> => {
  // a run that never ended locally (its process died) has no end time, and stays RUNNING
  const endTime = run.endTime
  if (target === undefined || endTime === undefined) return
  await pipe(
    target,
    TE.flatMap((s) => s.end(run.status, endTime))
  )()
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Pushes every run of the store in `dir` that `sink` (or, when it mirrors into a local store,
 * the sink it mirrors: see the module's description) has not wholly confirmed yet.
 *
 * @example
 * import { syncStore, memorySink, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink: localSink({ dir }) })
 * const target = memorySink()
 * // a dry run counts what would be sent and sends nothing
 * const planned = await syncStore(dir, target, { dryRun: true })()
 * assert.ok(E.isRight(planned) && planned.right.dryRun && planned.right.runs[0]?.metrics === 1)
 * assert.strictEqual(target.snapshot().runs.length, 0)
 * const report = await syncStore(dir, target, { onProgress: () => undefined })()
 * assert.ok(E.isRight(report) && report.right.target === 'memory')
 * assert.strictEqual(target.snapshot().runs[0]?.metrics['accuracy']?.[0]?.value, 0.9)
 *
 * @category constructors
 * @since 0.1.0
 */
export const syncStore = (dir: string, sink: Sink, options: SyncOptions = {}): TE.TaskEither<TrackError, SyncReport> => {
  const target = unmirrored(sink)
  const key = options.target ?? target.name
  const dryRun = options.dryRun ?? false
  const onProgress = options.onProgress ?? (() => undefined)
  return pipe(
    L.listRuns(dir),
    TE.flatMap((all) => async () => {
      const runs = pending(all, key)
      const bytes = runs.reduce((n, r) => n + r.journalBytes - (stateOf(r, key)?.offset ?? 0), 0)
      let bytesDone = 0
      let runsDone = 0
      const ctx: Context = {
        dryRun,
        dir,
        target,
        key,
        checkpointBytes: options.checkpointBytes ?? 4 * 1024 * 1024,
        remoteIds: new Map(all.flatMap((r) => r.sync.filter((s) => s.target === key).map((s) => [r.runId, s.remoteRunId]))),
        localIds: new Set(all.map((r) => r.runId)),
        advance: (runId, n) => {
          bytesDone = Math.min(bytes, bytesDone + n)
          onProgress({ runId, runs: runs.length, runsDone, bytes, bytesDone })
        }
      }
      const done: Array<RunSync> = []
      for (const run of runs) {
        const result = await replay(ctx, run)
        if (result.error !== undefined && isUnreachable(result.error)) return E.left(result.error)
        done.push(result)
        runsDone++
      }
      return E.right({ target: key, dryRun, runs: done })
    })
  )
}
