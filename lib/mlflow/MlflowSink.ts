/**
 * `mlflowSink`: commits runs to an MLflow tracking server over its REST API.
 *
 * Experiments are found by name or created (a creation race resolves to the winner). Params,
 * tags and metrics go through `runs/log-batch`, split to respect every server limit (100
 * params, 100 tags, 1000 metrics, 1000 entities and under 1 MB a request). Streamed metrics
 * are batched by a bounded queue with several requests in flight. A param longer than
 * MLflow's 6000 characters is stored truncated, with its whole value as the artifact
 * `params/<key>.txt` and a warning. Artifacts go through the server's artifact proxy.
 *
 * @example
 * import { mlflowSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * // a description: run builds it (connections, the local journal) and closes it at the end
 * const sink = mlflowSink(process.env['MLFLOW_TRACKING_URI'] ?? 'http://127.0.0.1:5000')
 * const result = await run(evaluate({ experiment: 'docs-mlflow-sink' }, async () => ({ accuracy: 0.9 })), { sink })
 * assert.ok(E.isRight(result))
 * assert.deepStrictEqual(result.right.results, { accuracy: 0.9 })
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { configError, notFound, paramConflict, type TrackError } from '../Errors.js'
import type { Clock, Fetch, Platform, Timers, Transport } from '../platform/Platform.js'
import type { Entry, Metric } from '../Records.js'
import type { RunQuery } from '../RunQuery.js'
import * as Scope from '../Scope.js'
import { describeSink, type RunSink, type Sink, type SinkDescription } from '../Sink.js'
import * as Api from './Api.js'
import { cutTo, PARAM_VALUE_LIMIT, TAG_VALUE_LIMIT } from '../Limits.js'
import { configFor, LIMITS, tlsTarget, type MlflowConfig } from './Config.js'
import { httpClient, type HttpClient } from './Http.js'
import { defaultQueueOptions, metricQueue, type QueueOptions } from './MetricQueue.js'
import { mlflowQuery } from './MlflowQuery.js'

export type { QueueOptions } from './MetricQueue.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `mlflowSink`: the transport, where warnings go, and how streamed metrics are
 * batched.
 * @category model
 * @since 0.1.0
 */
export interface MlflowSinkOptions {
  /** The transport; the platform's (on Node, cross-fetch with keep-alive connections) by default. */
  readonly fetch?: Fetch
  /** How streamed metrics are batched; `defaultQueueOptions` for what is not given. */
  readonly queue?: Partial<QueueOptions>
  /**
   * Whether the sink journals its runs into a local store (`withLocalJournal`): the default
   * store unless `{ dir }` names another; `false` writes no local file. By default on where the
   * platform has a local store (Node), unless `CHARMORY_TRACK_FALLBACK=off` (since 0.2.0).
   */
  readonly journal?: JournalSetting
}

/**
 * Whether (and where) an `mlflowSink` journals its runs into a local store:
 * `true` in the default store (`$ARMORY_HOME/mlruns`), `{ dir }` in that one, `false` not at all.
 * @category model
 * @since 0.2.0
 */
export type JournalSetting = boolean | { readonly dir: string }

/**
 * A built MLflow sink: its connections, timers and journal are released by the scope it was
 * built in.
 * @category model
 * @since 0.1.0
 */
export interface MlflowSink extends Sink {
  readonly config: MlflowConfig
  /** Searches through the server's `runs/search` and friends (`Query`). @since 0.2.0 */
  readonly query: RunQuery
}


// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const sizeOf = (entries: ReadonlyArray<Entry>): number => entries.reduce((n, [k, v]) => n + JSON.stringify(k + v).length + 24, 0)

/**
 * Splits params and tags into `log-batch` bodies within every limit (the 1 MB cap is counted
 * on the JSON text, so escapes cannot push a body over it).
 * @category utils
 * @since 0.1.0
 */
export const entryBatches = (kind: 'params' | 'tags', entries: ReadonlyArray<Entry>): ReadonlyArray<ReadonlyArray<Entry>> => {
  const batches: Array<Array<Entry>> = []
  let current: Array<Entry> = []
  let bytes = 0
  for (const entry of entries) {
    const size = sizeOf([entry])
    if (current.length > 0 && (current.length >= LIMITS[kind] || bytes + size > LIMITS.bytes - 1024)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(entry)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/** Tags as the server keeps them: cut to its limit (evaluate and reopen warn of a cut first: Limits). */
const kept = (tags: ReadonlyArray<Entry>): ReadonlyArray<Entry> => tags.map(([key, value]): Entry => [key, cutTo(value, TAG_VALUE_LIMIT)])

const sequence = (tasks: ReadonlyArray<TE.TaskEither<TrackError, void>>): TE.TaskEither<TrackError, void> =>
  tasks.reduce((acc, task) => TE.flatMap(() => task)(acc), TE.right<TrackError, void>(undefined))

// -------------------------------------------------------------------------------------
// run writer
// -------------------------------------------------------------------------------------

interface RunState {
  readonly info: Api.RunInfo
  readonly params: Map<string, string>
}

const runWriter = (
  http: HttpClient,
  state: RunState,
  queueOptions: QueueOptions,
  platform: { readonly timers: Timers; readonly clock: Clock }
): RunSink => {
  const runId = state.info.run_id
  const root = Api.artifactRoot(state.info.artifact_uri)
  const queue = metricQueue((batch) => Api.logBatch(http, runId, { metrics: batch }), queueOptions, platform.timers, platform.clock)

  const logArtifact = (path: string, bytes: Uint8Array): TE.TaskEither<TrackError, void> =>
    E.isLeft(root)
      ? TE.left(configError('artifact_uri', root.left))
      : Api.uploadArtifact(http, root.right, path, bytes)

  const logParams = (params: ReadonlyArray<Entry>): TE.TaskEither<TrackError, void> => {
    const sent: Array<Entry> = []
    for (const [key, value] of params) {
      // as the server keeps it (evaluate and reopen keep a long value whole as an artifact first: Limits)
      const stored = cutTo(value, PARAM_VALUE_LIMIT)
      const recorded = state.params.get(key)
      if (recorded !== undefined && recorded !== stored) return TE.left(paramConflict(runId, key, recorded, stored))
      if (recorded !== undefined) continue
      sent.push([key, stored])
    }
    return pipe(
      sequence(entryBatches('params', sent).map((batch) => Api.logBatch(http, runId, { params: batch }))),
      TE.tap(() => TE.right(sent.forEach(([k, v]) => state.params.set(k, v))))
    )
  }

  const setTags = (tags: ReadonlyArray<Entry>): TE.TaskEither<TrackError, void> =>
    sequence(entryBatches('tags', kept(tags)).map((batch) => Api.logBatch(http, runId, { tags: batch })))

  const flush = (): TE.TaskEither<TrackError, void> => () => queue.flush()

  return {
    runId,
    experimentId: state.info.experiment_id,
    logParams,
    setTags,
    logMetrics: (metrics: ReadonlyArray<Metric>) => () => queue.push(metrics),
    logArtifact,
    // At most 1000 datasets per request (MAX_DATASETS_PER_BATCH).
    logInputs: (datasets) =>
      sequence(Array.from({ length: Math.ceil(datasets.length / 1000) }, (_, i) => Api.logInputs(http, runId, datasets.slice(i * 1000, i * 1000 + 1000)))),
    flush,
    // The run is ended even when a flush failed, so that it is never left RUNNING; the
    // flush's error is still reported.
    end: (status, endTime) => async () => {
      const flushed = await queue.flush()
      const updated = await Api.updateRun(http, runId, status, endTime)()
      return E.isLeft(flushed) ? flushed : updated
    }
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The live sink on a server, from its configuration, a transport and the platform's logger,
 * clock, timers and randomness (what `mlflowSink`'s description builds; the command uses it
 * directly).
 * @category constructors
 * @since 0.2.0
 */
export const serverSink = (
  cfg: MlflowConfig,
  transport: Pick<Transport, 'fetch'>,
  platform: Pick<Platform, 'logger' | 'timers' | 'clock' | 'random'>,
  queue: Partial<QueueOptions> = {}
): MlflowSink => {
  const { logger } = platform
  const http = httpClient({
    baseUri: cfg.trackingUri,
    auth: cfg.auth,
    retry: cfg.retry,
    fetch: transport.fetch,
    platform,
    onRetry: (endpoint, attempt, reason) => logger.warn(`${endpoint}: retry ${attempt} after ${reason}`)
  })
  const queueOptions = { ...defaultQueueOptions, ...queue }
  const experiments = new Map<string, string>()

  const findOrCreate = (name: string): TE.TaskEither<TrackError, string> =>
    pipe(
      Api.getExperimentByName(http, name),
      TE.orElse((e) =>
        e._tag === 'HttpError' && e.errorCode === 'RESOURCE_DOES_NOT_EXIST'
          ? pipe(
              Api.createExperiment(http, name),
              TE.orElse((c) =>
                c._tag === 'HttpError' && c.errorCode === 'RESOURCE_ALREADY_EXISTS'
                  ? Api.getExperimentByName(http, name)
                  : TE.left(c)
              )
            )
          : TE.left(e)
      ),
      TE.tap((id) => TE.right(void experiments.set(name, id)))
    )

  return {
    name: `mlflow:${cfg.trackingUri}`,
    config: cfg,
    query: mlflowQuery(http),
    experiment: (name) => {
      const known = experiments.get(name)
      return known === undefined ? findOrCreate(name) : TE.right(known)
    },
    openRun: (request) => {
      // runs/create takes the first tags; the rest follow through log-batch
      const [first = [], ...rest] = entryBatches('tags', kept(request.tags))
      return pipe(
        Api.createRun(http, { ...request, tags: first }),
        TE.map((info) => runWriter(http, { info, params: new Map() }, queueOptions, platform)),
        TE.tap((run) => run.setTags(rest.flat()))
      )
    },
    reopenRun: (runId) =>
      pipe(
        Api.getRun(http, runId),
        // a run the server does not know is a NotFound, as on every sink
        TE.mapLeft((e) => (e._tag === 'HttpError' && e.errorCode === 'RESOURCE_DOES_NOT_EXIST' ? notFound('run', runId) : e)),
        TE.map((run) =>
          runWriter(
            http,
            { info: run.info, params: new Map((run.data.params ?? []).map((p) => [p.key, p.value])) },
            queueOptions,
            platform
          )
        )
      )
  }
}

/** Where the journal goes: the `journal` option, else on unless `CHARMORY_TRACK_FALLBACK=off`. */
const journalSetting = (option: JournalSetting | undefined, vars: Platform['vars']): JournalSetting =>
  option ?? (vars['CHARMORY_TRACK_FALLBACK'] ?? '').trim().toLowerCase() !== 'off'

/**
 * A sink that writes to the tracking server of `config` (or at the address `config`, which may
 * carry Basic credentials: `http://user:password@host:5000`), described: `run` builds it with
 * its platform's transport, logger and timers and releases it at the end. It never throws: an
 * address that is not `http(s)://`, or a certificate file that cannot be read, is a
 * `ConfigError` naming it, a `Left` from `run` (or `openSink`). On Node its runs are journaled
 * in the local store unless `journal: false` or `CHARMORY_TRACK_FALLBACK=off`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const mlflowSink = (config: MlflowConfig | string, options: MlflowSinkOptions = {}): SinkDescription<MlflowSink> => {
  const resolved = typeof config === 'string' ? configFor(config) : E.right(config)
  return describeSink(E.isRight(resolved) ? `mlflow:${resolved.right.trackingUri}` : 'mlflow:(unusable)', (context) =>
    pipe(
      TE.fromEither(resolved),
      TE.bindTo('cfg'),
      TE.bind('transport', ({ cfg }) =>
        options.fetch === undefined
          ? Scope.acquireRelease(context.scope, context.transport(tlsTarget(cfg)), (t) => t.close())
          : TE.right({ fetch: options.fetch })
      ),
      TE.flatMap(({ cfg, transport }) => {
        const remote = serverSink(cfg, transport, context, options.queue)
        const journal = journalSetting(options.journal, context.vars)
        const store = context.localStore
        if (journal === false || store === undefined) return TE.right(remote)
        return pipe(
          store.around(remote, journal === true ? store.defaultDir : journal.dir, 'journal', context),
          TE.map((journaled): MlflowSink => ({ ...journaled, config: cfg, query: remote.query }))
        )
      })
    )
  )
}
