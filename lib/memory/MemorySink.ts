/**
 * `memorySink`: keeps everything in memory, for tests. It enforces what an MLflow server
 * enforces (key rules, immutable params, runs that exist, string values, a param value cut to
 * 6000 characters and a tag value to 8000 as the server cuts them: `Limits`) and keeps what it
 * keeps (identical metric points once), so that a pipeline that passes against it means the
 * same against a real server, and its `snapshot` is plain data a test can compare.
 *
 * @example
 * import { memorySink, evaluate, run } from 'charmory-track'
 *
 * const sink = memorySink()
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink })
 * assert.strictEqual(sink.snapshot().runs[0]?.metrics['accuracy']?.[0]?.value, 0.9)
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { validateArtifactPath } from '../ArtifactPath.js'
import { invalidValue, notFound, paramConflict, taskFailed, type TrackError } from '../Errors.js'
import { validateKey } from '../Key.js'
import { cutTo, PARAM_VALUE_LIMIT, TAG_VALUE_LIMIT } from '../Limits.js'
import { metricHistory, type MetricHistory } from '../MetricHistory.js'
import { queryOver, type HeldRun } from '../Query.js'
import type { DatasetRecord, Entry, Metric, RunRequest, RunStatus } from '../Records.js'
import type { RunQuery } from '../RunQuery.js'
import type { RunSink, Sink } from '../Sink.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One point of a metric's history.
 * @category model
 * @since 0.1.0
 */
export interface MetricPoint {
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/**
 * A run as the memory sink holds it.
 * @category model
 * @since 0.1.0
 */
export interface RunRecord extends HeldRun {
  readonly metrics: Readonly<Record<string, ReadonlyArray<MetricPoint>>>
  readonly artifacts: Readonly<Record<string, Uint8Array>>
  /** Dataset inputs, in the order logged (since 0.2.0). */
  readonly inputs: ReadonlyArray<DatasetRecord>
}

/**
 * Everything a memory sink holds, in creation order.
 * @category model
 * @since 0.1.0
 */
export interface MemorySnapshot {
  readonly experiments: ReadonlyArray<{ readonly experimentId: string; readonly name: string }>
  readonly runs: ReadonlyArray<RunRecord>
}

/**
 * A sink that keeps runs in memory: a `Sink` whose `snapshot` shows what it holds, for tests.
 * @category model
 * @since 0.1.0
 */
export interface MemorySink extends Sink {
  /** A deep copy of everything held now. */
  readonly snapshot: () => MemorySnapshot
  /** Searches as an MLflow server would (`Query`). @since 0.2.0 */
  readonly query: RunQuery
}

interface MutableRun {
  readonly runId: string
  readonly experimentId: string
  readonly runName: string
  status: RunStatus
  readonly startTime: number
  endTime: number | undefined
  readonly params: Map<string, string>
  /** Identical points once, as an MLflow server keeps them. */
  readonly metrics: Map<string, MetricHistory<MetricPoint>>
  readonly tags: Map<string, string>
  readonly artifacts: Map<string, Uint8Array>
  readonly inputs: Array<DatasetRecord>
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkKeys = (items: ReadonlyArray<{ readonly key: string } | Entry>): E.Either<TrackError, void> => {
  for (const item of items) {
    const key = 'key' in item ? item.key : item[0]
    const checked = validateKey(key)
    if (E.isLeft(checked)) return checked
    if (!('key' in item) && typeof item[1] !== 'string') return E.left(invalidValue(key, 'a param or tag value is a string'))
  }
  return E.right(undefined)
}

/** A run id for a caller that proposes none: 32 hex digits, counting up, as readable in a test as a random one is in a log. */
const sequentialId = (n: number): string => n.toString(16).padStart(32, '0')
/** `f` as a task that never rejects, whatever it is given. */
const safely =
  <A>(f: () => E.Either<TrackError, A>): TE.TaskEither<TrackError, A> =>
  async () => {
    try {
      return f()
    } catch (e) {
      return E.left(taskFailed(e))
    }
  }

/** What the server keeps of each value: it cuts a long one to its limit. */
const kept = (entries: ReadonlyArray<Entry>, limit: number): ReadonlyArray<Entry> => entries.map(([k, v]): Entry => [k, cutTo(v, limit)])

const copyRun = (r: MutableRun): RunRecord => ({
  runId: r.runId,
  experimentId: r.experimentId,
  runName: r.runName,
  status: r.status,
  startTime: r.startTime,
  endTime: r.endTime,
  params: Object.fromEntries(r.params),
  metrics: Object.fromEntries([...r.metrics].map(([k, history]) => [k, history.points.map((p) => ({ ...p }))])),
  tags: Object.fromEntries(r.tags),
  artifacts: Object.fromEntries([...r.artifacts].map(([k, bytes]) => [k, bytes.slice()])),
  inputs: r.inputs.map((d) => ({ ...d, tags: d.tags.map(([k, v]): Entry => [k, v]) }))
})

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A new, empty in-memory sink.
 *
 * @example
 * import { memorySink, evaluate, run } from 'charmory-track'
 *
 * const sink = memorySink()
 * await run(evaluate({ experiment: 'demo', runName: 'first' }, async (r) => {
 *   await r.logMetric('loss', 0.5, { step: 1, timestamp: 1000 })
 *   await r.logArtifact({ path: 'notes.txt', text: 'ok' })
 * }), { sink })
 * const { experiments, runs } = sink.snapshot()
 * assert.deepStrictEqual(experiments.map((e) => e.name), ['demo'])
 * assert.strictEqual(runs[0]?.runName, 'first')
 * assert.deepStrictEqual(runs[0]?.metrics['loss'], [{ value: 0.5, step: 1, timestamp: 1000 }])
 * assert.strictEqual(new TextDecoder().decode(runs[0]?.artifacts['notes.txt']), 'ok')
 *
 * @category constructors
 * @since 0.1.0
 */
export const memorySink = (): MemorySink => {
  const experiments = new Map<string, string>()
  const runs = new Map<string, MutableRun>()

  const writer = (run: MutableRun): RunSink => {
    const guarded =
      <A extends ReadonlyArray<unknown>>(f: (...args: A) => E.Either<TrackError, void>) =>
      (...args: A): TE.TaskEither<TrackError, void> =>
        safely(() => f(...args))
    return {
      runId: run.runId,
      experimentId: run.experimentId,
      logParams: guarded((params: ReadonlyArray<Entry>) => {
        const checked = checkKeys(params)
        if (E.isLeft(checked)) return checked
        const stored = kept(params, PARAM_VALUE_LIMIT)
        for (const [key, value] of stored) {
          const recorded = run.params.get(key)
          if (recorded !== undefined && recorded !== value) {
            return E.left(paramConflict(run.runId, key, recorded, value))
          }
        }
        for (const [key, value] of stored) run.params.set(key, value)
        return E.right(undefined)
      }),
      logMetrics: guarded((metrics: ReadonlyArray<Metric>) => {
        const checked = checkKeys(metrics)
        if (E.isLeft(checked)) return checked
        const bad = metrics.find((m) => typeof m.value !== 'number' || !Number.isSafeInteger(m.step))
        if (bad !== undefined) return E.left(invalidValue(bad.key, 'a metric needs a number value and an integer step'))
        for (const m of metrics) {
          const history = run.metrics.get(m.key) ?? metricHistory()
          history.add({ value: m.value, step: m.step, timestamp: m.timestamp })
          run.metrics.set(m.key, history)
        }
        return E.right(undefined)
      }),
      setTags: guarded((tags: ReadonlyArray<Entry>) => {
        const checked = checkKeys(tags)
        if (E.isLeft(checked)) return checked
        for (const [key, value] of kept(tags, TAG_VALUE_LIMIT)) run.tags.set(key, value)
        return E.right(undefined)
      }),
      logArtifact: guarded((path: string, bytes: Uint8Array) =>
        E.map((p: string) => void run.artifacts.set(p, bytes.slice()))(validateArtifactPath(path))
      ),
      logInputs: guarded((inputs: ReadonlyArray<DatasetRecord>) => {
        for (const d of inputs) {
          if (!run.inputs.some((known) => known.name === d.name && known.digest === d.digest)) run.inputs.push(d)
        }
        return E.right(undefined)
      }),
      flush: () => TE.right(undefined),
      end: guarded((status: RunStatus, endTime: number) => {
        run.status = status
        run.endTime = endTime
        return E.right(undefined)
      })
    }
  }

  return {
    name: 'memory',
    experiment: (name) => async () => {
      if (typeof name !== 'string') return E.left(invalidValue('name', "an experiment's name is a string"))
      const known = experiments.get(name)
      if (known !== undefined) return E.right(known)
      const id = String(experiments.size + 1)
      experiments.set(name, id)
      return E.right(id)
    },
    openRun: (request: RunRequest) => safely(() => {
      if (![...experiments.values()].includes(request.experimentId)) {
        return E.left(notFound('experiment', request.experimentId))
      }
      const checked = checkKeys(request.tags)
      if (E.isLeft(checked)) return checked
      const run: MutableRun = {
        runId: request.runId !== undefined && !runs.has(request.runId) ? request.runId : sequentialId(runs.size + 1),
        experimentId: request.experimentId,
        runName: request.runName,
        status: 'RUNNING',
        startTime: request.startTime,
        endTime: undefined,
        params: new Map(),
        metrics: new Map(),
        tags: new Map(kept(request.tags, TAG_VALUE_LIMIT)),
        artifacts: new Map(),
        inputs: []
      }
      runs.set(run.runId, run)
      return E.right(writer(run))
    }),
    reopenRun: (runId) => async () => {
      const run = runs.get(runId)
      return run === undefined ? E.left(notFound('run', runId)) : E.right(writer(run))
    },
    snapshot: () => ({
      experiments: [...experiments].map(([name, experimentId]) => ({ experimentId, name })),
      runs: [...runs.values()].map(copyRun)
    }),
    query: queryOver({
      experiments: () => TE.right([...experiments].map(([name, experimentId]) => ({ experimentId, name }))),
      runs: () => TE.right([...runs.values()].map(copyRun)),
      run: (runId) => {
        const run = runs.get(runId)
        return run === undefined ? TE.left(notFound('run', runId)) : TE.right(copyRun(run))
      }
    })
  }
}
