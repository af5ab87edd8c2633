/**
 * `localSink`: the embedded default. Runs are kept on this machine in the local store
 * (`$ARMORY_HOME/mlruns` unless `dir` says otherwise; format in `LocalStore`), durably, with
 * no server; `charmory-track sync` or `charmory-track server` pushes them into MLflow later.
 *
 * Every record is appended to the run's journal as it is logged. Metric points are gathered
 * in memory (at most `bufferBytes`; a producer faster than the disk waits) and written in
 * one append; the journal is written and flushed to disk (`fsync`) at least every
 * `flushIntervalMs` while the run is open, on `flush`, and at the run's end. A process
 * killed mid-run leaves everything written before the kill readable, the run shown as not
 * finished. The sink enforces what the MLflow server enforces (key rules, immutable params,
 * string values, a param value cut to 6000 characters and a tag value to 8000 as the server
 * cuts them), so a run that is accepted here is accepted by the server when it is synced; and
 * it appends no record that the store's own reader would refuse.
 *
 * @example
 * import { LocalStore, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * const result = await run(
 *   evaluate({ experiment: 'demo' }, async (r) => {
 *     await r.logMetric('loss', 0.25, { step: 1 })
 *     return { accuracy: 0.9 }
 *   }),
 *   { sink: localSink({ dir }) }
 * )
 * assert.ok(E.isRight(result))
 * const stored = await LocalStore.loadRun(dir, result.right.runId)()
 * assert.ok(E.isRight(stored))
 * assert.strictEqual(stored.right.status, 'FINISHED')
 * assert.deepStrictEqual(stored.right.metricHistories['loss']?.map((p) => [p.step, p.value]), [[1, 0.25]])
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { mkdir, stat, truncate } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, resolve } from 'node:path'
import { validateArtifactPath } from '../ArtifactPath.js'
import { decodeArgument } from '../Arguments.js'
import { describeUnknown, fileError, invalidValue, notFound, paramConflict, taskFailed, type TrackError } from '../Errors.js'
import { validateKey } from '../Key.js'
import { cutTo, PARAM_VALUE_LIMIT, TAG_VALUE_LIMIT } from '../Limits.js'
import type { Platform } from '../platform/Platform.js'
import type { Entry, Metric, RunRequest, RunStatus } from '../Records.js'
import type { RunQuery } from '../RunQuery.js'
import type { Scope } from '../Scope.js'
import { describeSink, type RunSink, type Sink, type SinkDescription } from '../Sink.js'
import * as Codecs from './Codecs.js'
import * as Files from './Files.js'
import * as Journal from './Journal.js'
import { done, journalWriter, type Writer } from './JournalWriter.js'
import * as Layout from './Layout.js'
import { localQuery } from './LocalQuery.js'
import * as Registry from './Registry.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `localSink`: where the store is, and how often the journal is flushed to disk.
 * @category model
 * @since 0.1.0
 */
export interface LocalSinkOptions {
  /** The store's folder; `$ARMORY_HOME/mlruns` (`~/.armory/mlruns`) by default. */
  readonly dir?: string
  /** The longest time logged data waits in memory before it is written and flushed; 1000 ms. */
  readonly flushIntervalMs?: number
  /** How much metric data is gathered before it is written; 256 KiB. */
  readonly bufferBytes?: number
}

/**
 * A run of the local store, open for writing.
 * @category model
 * @since 0.1.0
 */
export interface LocalRunSink extends RunSink {
  /** The bytes of the journal written so far: after `flush`, the journal's length. */
  readonly written: () => number
  readonly logInputs: NonNullable<RunSink['logInputs']>
}

/**
 * A sink that writes runs into a local store: a `Sink` that also tells its folder and opens
 * runs under a given id.
 * @category model
 * @since 0.1.0
 */
export interface LocalSink extends Sink {
  /** The store's folder, absolute. */
  readonly dir: string
  /** Opens a new run, under `request.runId` when given (a run mirrored from a server keeps the server's). */
  readonly openRun: (request: RunRequest) => TE.TaskEither<TrackError, LocalRunSink>
  readonly reopenRun: (runId: string) => TE.TaskEither<TrackError, LocalRunSink>
  /** Searches the store as an MLflow server would (`Query`). @since 0.2.0 */
  readonly query: RunQuery
}

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

/** Key checks, remembered: a metric logged a million times is checked once. */
const keyChecker = (): ((key: string) => E.Either<TrackError, void>) => {
  const good = new Set<string>()
  return (key) => {
    if (good.has(key)) return E.right(undefined)
    const checked = validateKey(key)
    if (E.isLeft(checked)) return checked
    if (good.size >= 10_000) good.clear()
    good.add(key)
    return E.right(undefined)
  }
}

const checkEntries = (check: (key: string) => E.Either<TrackError, void>, entries: ReadonlyArray<Entry>): E.Either<TrackError, void> => {
  for (const [key, value] of entries) {
    const checked = check(key)
    if (E.isLeft(checked)) return checked
    if (typeof value !== 'string') return E.left(invalidValue(key, 'a param or tag value is a string'))
  }
  return E.right(undefined)
}

/** What the server keeps of each value: it cuts a long one to its limit (`Limits`). */
const kept = (entries: ReadonlyArray<Entry>, limit: number): ReadonlyArray<Entry> => entries.map(([k, v]): Entry => [k, cutTo(v, limit)])

/**
 * The journal line of `record`, once the store's own reader would take it: whatever a caller
 * passes, the writer never appends a line that makes the run unreadable.
 */
const lineOf = (fn: string, record: Codecs.JournalRecord): E.Either<TrackError, string> =>
  E.map(() => Codecs.encodeRecord(record))(decodeArgument(fn, record.t, Codecs.JournalRecord, record))

/**
 * `f` as a task that neither throws nor rejects, whatever it is given (a sink used directly,
 * from JavaScript): what it throws is a `TaskFailed`.
 */
const guarded =
  <A extends ReadonlyArray<unknown>, B>(f: (...args: A) => TE.TaskEither<TrackError, B>) =>
  (...args: A): TE.TaskEither<TrackError, B> =>
  async () => {
    try {
      return await f(...args)()
    } catch (e) {
      return E.left(taskFailed(e))
    }
  }

// -------------------------------------------------------------------------------------
// run writer
// -------------------------------------------------------------------------------------

interface RunState {
  readonly dir: string
  readonly runId: string
  readonly experimentId: string
  readonly params: Map<string, string>
  readonly writer: Writer
  readonly check: (key: string) => E.Either<TrackError, void>
}

const settle = (run: RunState, pending: Promise<void>): TE.TaskEither<TrackError, void> => async () => {
  await pending
  const failure = run.writer.failure()
  return failure === undefined ? E.right(undefined) : E.left(failure)
}

const fail = (e: TrackError): TE.TaskEither<TrackError, void> => TE.left(e)

/** Appends `record` once its line is known to read back. */
const append = (run: RunState, fn: string, record: Codecs.JournalRecord): TE.TaskEither<TrackError, void> => {
  const line = lineOf(fn, record)
  return E.isLeft(line) ? TE.fromEither(line) : settle(run, run.writer.append(line.right))
}

const logParams = (run: RunState, given: ReadonlyArray<Entry>): TE.TaskEither<TrackError, void> => {
  const checked = checkEntries(run.check, given)
  if (E.isLeft(checked)) return TE.fromEither(checked)
  const params = kept(given, PARAM_VALUE_LIMIT)
  for (const [key, value] of params) {
    const recorded = run.params.get(key)
    if (recorded !== undefined && recorded !== value) return fail(paramConflict(run.runId, key, recorded, value))
  }
  const fresh = params.filter(([key]) => !run.params.has(key))
  if (fresh.length === 0) return settle(run, done)
  for (const [key, value] of fresh) run.params.set(key, value)
  return append(run, 'logParams', { t: 'params', params: fresh })
}

const logMetrics = (run: RunState, metrics: ReadonlyArray<Metric>, keys: Map<string, string>): TE.TaskEither<TrackError, void> => {
  for (const m of metrics) {
    const checked = run.check(m.key)
    if (E.isLeft(checked)) return TE.fromEither(checked)
    if (typeof m.value !== 'number' || !Number.isSafeInteger(m.step) || !Number.isSafeInteger(m.timestamp)) {
      return fail(invalidValue(m.key, 'a metric needs a number value, an integer step and integer milliseconds'))
    }
  }
  let pending = done
  for (const m of metrics) {
    let keyJson = keys.get(m.key)
    if (keyJson === undefined) {
      // bounded, like the key checks: a run may log a million distinct keys
      if (keys.size >= 10_000) keys.clear()
      keys.set(m.key, (keyJson = JSON.stringify(m.key)))
    }
    const written = run.writer.point(Codecs.encodePoint(keyJson, m.value, m.timestamp, m.step))
    if (written !== done) pending = written
  }
  return pending === done && run.writer.failure() === undefined ? TE.right(undefined) : settle(run, pending)
}

const logArtifact = (run: RunState, path: string, bytes: Uint8Array): TE.TaskEither<TrackError, void> =>
  pipe(
    TE.fromEither(validateArtifactPath(path)),
    TE.flatMap((p) => {
      const target = Layout.artifactFile(run.dir, run.runId, p)
      return pipe(
        TE.tryCatch(
          () => mkdir(dirname(target), { recursive: true }),
          (e) => fileError(target, describeUnknown(e))
        ),
        TE.flatMap(() => Files.replaceFile(target, bytes)),
        TE.flatMap(() => append(run, 'logArtifact', { t: 'artifact', path: p, size: bytes.length }))
      )
    })
  )

const runSink = (run: RunState): LocalRunSink => {
  const keys = new Map<string, string>()
  return {
    runId: run.runId,
    experimentId: run.experimentId,
    written: run.writer.written,
    logParams: guarded((params) => logParams(run, params)),
    logMetrics: guarded((metrics) => logMetrics(run, metrics, keys)),
    setTags: guarded((tags: ReadonlyArray<Entry>) => {
      const checked = checkEntries(run.check, tags)
      if (E.isLeft(checked)) return TE.fromEither(checked)
      return tags.length === 0 ? TE.right(undefined) : append(run, 'setTags', { t: 'tags', tags: kept(tags, TAG_VALUE_LIMIT) })
    }),
    logArtifact: guarded((path, bytes) => logArtifact(run, path, bytes)),
    logInputs: guarded((datasets) => (datasets.length === 0 ? TE.right(undefined) : append(run, 'logInputs', { t: 'inputs', datasets }))),
    // the file is closed too: a reopened run is flushed, never ended, and would keep it open
    flush: () => settle(run, run.writer.close()),
    end: guarded((status: RunStatus, endTime: number) => {
      if (!Number.isSafeInteger(endTime)) return fail(invalidValue('endTime', 'an end time is integer milliseconds'))
      const line = lineOf('end', { t: 'end', status, endTime })
      if (E.isLeft(line)) return TE.fromEither(line)
      void run.writer.append(line.right)
      return settle(run, run.writer.close())
    })
  }
}

// -------------------------------------------------------------------------------------
// opening runs
// -------------------------------------------------------------------------------------

const tryIO = <A>(path: string, f: () => Promise<A>): TE.TaskEither<TrackError, A> =>
  TE.tryCatch(f, (e) => fileError(path, describeUnknown(e)))

/** Creates the run's folder (failing if the id is taken) and its journal, start record in. */
const createRun = (dir: string, runId: string, request: RunRequest): TE.TaskEither<TrackError, number> =>
  pipe(
    TE.fromEither(
      lineOf('openRun', {
        t: 'start',
        format: 1,
        runId,
        experimentId: request.experimentId,
        runName: request.runName,
        startTime: request.startTime,
        tags: kept(request.tags, TAG_VALUE_LIMIT)
      })
    ),
    TE.flatMap((line) =>
      pipe(
        tryIO(Layout.runDir(dir, runId), () => mkdir(Layout.runDir(dir, runId))),
        TE.flatMap(() => Files.replaceFile(Layout.journalPath(dir, runId), line)),
        TE.as(Buffer.byteLength(line))
      )
    )
  )

/** Cuts off a torn last line, left by a writer that died mid-line, before appending again. */
const cutTornTail = (dir: string, runId: string, complete: number): TE.TaskEither<TrackError, void> => {
  const path = Layout.journalPath(dir, runId)
  return tryIO(path, async () => {
    if ((await stat(path)).size > complete) await truncate(path, complete)
  })
}

/** Reads back what a reopened run needs: its experiment and params, and where its journal ends. */
const reopenState = (
  dir: string,
  runId: string
): TE.TaskEither<TrackError, { experimentId: string; params: Map<string, string>; complete: number }> =>
  pipe(
    TE.fromEither(pipe(Codecs.RunId.decode(runId), E.mapLeft(() => notFound('run', runId)))),
    TE.flatMap(() => Journal.foldJournal(dir, runId)),
    TE.flatMap((fold) =>
      fold.start === undefined
        ? // a line that cannot be read is skipped; without its start, the run cannot be reopened
          TE.left(fold.unreadable[0]?.error ?? notFound('run', runId))
        : pipe(
            cutTornTail(dir, runId, fold.journalBytes),
            TE.as({ experimentId: fold.start.experimentId, params: new Map(fold.params), complete: fold.journalBytes })
          )
    )
  )

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A sink writing to the local store in `options.dir` (created when missing).
 *
 * @example
 * import { LocalStore, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * const sink = localSink({ dir, flushIntervalMs: 200 })
 * assert.strictEqual(sink.name, `local:${dir}`)
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink })
 * const runs = await LocalStore.listRuns(dir)()
 * assert.deepStrictEqual(E.map((rs: ReadonlyArray<unknown>) => rs.length)(runs), E.right(1))
 *
 * @category constructors
 * @since 0.1.0
 */
export const localSink = (options: LocalSinkOptions = {}): SinkDescription<LocalSink> =>
  describeSink(`local:${options.dir === undefined ? '$ARMORY_HOME/mlruns' : resolve(options.dir)}`, (context) =>
    TE.right(openStore(resolve(options.dir ?? Layout.defaultStoreDir(context.vars, context.home ?? homedir())), options, context, context.scope))
  )

/**
 * The live sink on the store in `dir` (what `localSink`'s description builds; the command uses
 * it directly): `scope` writes out the runs still open when it closes.
 * @category constructors
 * @since 0.2.0
 */
export const openStore = (
  dir: string,
  options: Omit<LocalSinkOptions, 'dir'>,
  platform: Pick<Platform, 'clock' | 'timers' | 'ids'>,
  scope: Scope
): LocalSink => {
  const flushIntervalMs = options.flushIntervalMs ?? 1000
  const bufferBytes = options.bufferBytes ?? 256 * 1024
  const check = keyChecker()
  const experiments = new Map<string, string>()
  const writers = new Set<Writer>()
  let ready: Promise<E.Either<TrackError, void>> | undefined
  const store = (): TE.TaskEither<TrackError, void> => async () => {
    ready ??= Registry.ensureStore(dir)()
    const r = await ready
    if (E.isLeft(r)) ready = undefined
    return r
  }
  const sink = (runId: string, experimentId: string, params: Map<string, string>, size: number): LocalRunSink => {
    const writer = journalWriter(Layout.journalPath(dir, runId), size, flushIntervalMs, bufferBytes, platform)
    writers.add(writer)
    return runSink({ dir, runId, experimentId, params, check, writer })
  }
  scope.addFinalizer(async () => {
    await Promise.all([...writers].map((w) => w.close()))
    writers.clear()
  })
  return {
    name: `local:${dir}`,
    dir,
    experiment: guarded((name: string) => {
      if (typeof name !== 'string') return TE.left(invalidValue('name', "an experiment's name is a string"))
      const known = experiments.get(name)
      if (known !== undefined) return TE.right(known)
      return pipe(
        store(),
        TE.flatMap(() => Registry.registerExperiment(dir, name)),
        TE.tap((id) => TE.right(void experiments.set(name, id)))
      )
    }),
    openRun: guarded((request: RunRequest, runId: string = request.runId ?? platform.ids()) =>
      pipe(
        store(),
        TE.flatMap(() => Registry.readExperiment(dir, request.experimentId)),
        TE.flatMap((found) => (found === undefined ? TE.left(notFound('experiment', request.experimentId)) : TE.right(found))),
        TE.flatMap(() => TE.fromEither(checkEntries(check, request.tags))),
        TE.flatMap(() =>
          pipe(
            TE.fromEither(Codecs.RunId.decode(runId)),
            TE.mapLeft(() => invalidValue('runId', `${JSON.stringify(runId)} cannot name a run folder`)),
            TE.flatMap(() => createRun(dir, runId, request))
          )
        ),
        TE.map((size) => sink(runId, request.experimentId, new Map(), size))
      )
    ),
    reopenRun: (runId) =>
      pipe(
        reopenState(dir, runId),
        TE.map((s) => sink(runId, s.experimentId, s.params, s.complete))
      ),
    query: localQuery(dir)
  }
}
