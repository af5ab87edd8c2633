/**
 * `withLocalFallback`: an MLflow server when it can be reached, the local store when it
 * cannot, and nothing lost either way.
 *
 * Every run is journaled into the local store and also written to the server, under the same
 * run id. When the server cannot be reached (after the remote sink's own retry policy: a
 * network error, a 5xx or a 429) at the start of a run or in the middle of one, a warning goes
 * to the logger and the run goes on in the local store alone: the evaluation does not fail.
 * From then on the sink stays local (so a long evaluation does not wait through the retry
 * policy again at every run). The local runs that the server did not wholly confirm are
 * unsynced; `charmory-track sync` pushes them later, into the run already created on the
 * server when there is one. A run the server confirmed to its end is marked synced and is
 * not sent again.
 *
 * Other failures of the server (a refused key, bad credentials) are errors, as without the
 * fallback. `sinkFromEnv` uses this combinator when `CHARMORY_TRACK_FALLBACK=local` is set.
 *
 * `withLocalJournal` (since 0.2.0) journals the same way but does not go on without the
 * server: when the server cannot be reached in the middle of a run, the run is journaled to
 * its end while every operation fails with an `Unsynced` error that names the local store,
 * the run and the command that completes it on the server (`charmory-track sync`). Nothing
 * that was accepted is lost. An `mlflowSink` journals itself this way by default.
 *
 * Both say what they mirror (`sink.journaled`: the remote and the local store's folder), so
 * that `syncStore` given one of them sends to the remote rather than journaling what it
 * replays into the store it reads (since 0.3.0).
 *
 * @example
 * import { LocalStore, withLocalFallback, localSink, mlflowSink, Mlflow, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * // a server that cannot be reached (nothing listens on port 9), tried once
 * const config = Mlflow.configFor('http://127.0.0.1:9')
 * assert.ok(E.isRight(config))
 * const server = mlflowSink({ ...config.right, retry: { ...config.right.retry, maxRetries: 0 } }, { journal: false })
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * const warnings: Array<string> = []
 * const logger = { warn: (m: string) => void warnings.push(m), info: () => undefined }
 * const sink = withLocalFallback(server, localSink({ dir }))
 *
 * const result = await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink, logger })
 * assert.ok(E.isRight(result)) // the evaluation went on without the server
 * assert.match(warnings.join('\n'), /cannot be reached/)
 * const runs = await LocalStore.listRuns(dir)()
 * assert.ok(E.isRight(runs) && runs.right[0]?.synced === false) // for `charmory-track sync`
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { describeError, notFound, runEnded, unsupported, unsynced, type TrackError } from '../Errors.js'
import type { Logger } from '../platform/Platform.js'
import type { RunStatus } from '../Records.js'
import { buildSink, describeSink, type RunSink, type Sink, type SinkDescription } from '../Sink.js'
import type { LocalRunSink, LocalSink } from './LocalSink.js'
import * as Registry from './Registry.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Options of `withLocalFallback` and `withLocalJournal`.
 * @category model
 * @since 0.1.0
 */
export interface FallbackOptions {
  /** Where the warning goes when the server cannot be reached; the logger given to `run` by default. */
  readonly logger?: Logger
  /**
   * The store `charmory-track sync` reads when `MLFLOW_TRACKING_URI` names none: the command
   * an `Unsynced` error gives names the store unless it is this one (since 0.2.0).
   */
  readonly defaultDir?: string
}

type Mode = 'fallback' | 'journal'

interface Experiment {
  readonly name: string
  readonly localId: string
  readonly remoteId: string | undefined
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * Whether an error means that the server cannot be reached (rather than that it refused):
 * a `NetworkError`, or an `HttpError` with a 5xx status or 429.
 * @category utils
 * @since 0.1.0
 */
export const isUnreachable = (e: TrackError): boolean =>
  e._tag === 'NetworkError' || (e._tag === 'HttpError' && (e.status >= 500 || e.status === 429))

/** A URI without its user and password. */
const withoutCredentials = (uri: string): string => {
  try {
    const url = new URL(uri)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/$/, '')
  } catch {
    return uri
  }
}

const quoted = (s: string): string => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/**
 * The command that pushes the runs of the store `dir` to `server` (the name of an MLflow
 * sink, `mlflow:<uri>`): `charmory-track sync` reads the default store unless
 * `MLFLOW_TRACKING_URI` names another folder.
 * @category utils
 * @since 0.2.0
 */
export const syncCommandFor = (dir: string, server: string, defaultDir?: string): string => {
  const uri = withoutCredentials(server.replace(/^mlflow:/, ''))
  const store = dir === defaultDir ? '' : `MLFLOW_TRACKING_URI=${quoted(dir)} `
  return `${store}npx charmory-track sync --to ${quoted(uri)}`
}

/** What `remote` offers besides writing runs (reading them back, `close`, its config), kept by the sink over it. */
const extrasOf = (remote: Sink): object => {
  const { name: _name, experiment: _experiment, openRun: _openRun, reopenRun: _reopenRun, ...kept } = remote
  return kept
}

/** Runs operations one after the other, in the order they were asked for. */
const serializer = () => {
  let last: Promise<unknown> = Promise.resolve()
  return <A>(f: () => Promise<A>): Promise<A> => {
    const next = last.then(f)
    last = next
    return next
  }
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Both sinks; see the module's description for the two modes. */
const mirrored = (remote: Sink, local: LocalSink, options: FallbackOptions & { readonly logger: Logger }, mode: Mode): Sink => {
  const { logger } = options
  const experiments = new Map<string, Experiment>()
  let offline = false

  /**
   * `some` on success, `none` when the server cannot be reached (the sink goes local); in
   * the journal mode, the server's error.
   */
  const attempt = async <A>(op: TE.TaskEither<TrackError, A>): Promise<E.Either<TrackError, O.Option<A>>> => {
    const r = await op()
    if (E.isRight(r)) return E.right(O.some(r.right))
    if (!isUnreachable(r.left) || mode === 'journal') return r
    if (!offline) {
      offline = true
      logger.warn(
        `${remote.name} cannot be reached (${describeError(r.left)}); runs go on in the local store ${local.dir}, ` +
          'unsynced: push them with `charmory-track sync` once the server is back'
      )
    }
    return E.right(O.none)
  }

  const mirror = (ls: LocalRunSink, rs: RunSink): RunSink => {
    const serial = serializer()
    let mirroring = true
    /** In the journal mode, once the server could not be reached: what every operation fails with. */
    let lost: TrackError | undefined
    const confirm = (): TE.TaskEither<TrackError, void> =>
      Registry.recordSyncState(local.dir, ls.runId, { target: remote.name, remoteRunId: rs.runId, offset: ls.written() })
    const losing = (e: TrackError): E.Either<TrackError, void> => {
      mirroring = false
      lost = unsynced(ls.runId, local.dir, withoutCredentials(remote.name.replace(/^mlflow:/, '')), syncCommandFor(local.dir, remote.name, options.defaultDir), e)
      logger.warn(describeError(lost))
      return E.left(lost)
    }
    /**
     * The local operation, then (while the server is there) the remote one. Once the server
     * is lost in the journal mode, the run goes on in the journal and each operation fails
     * with `lost`, except ending the run FAILED or KILLED: that failure is already reported.
     */
    const both =
      (l: TE.TaskEither<TrackError, void>, r: () => TE.TaskEither<TrackError, void>, confirmed = false, ending?: RunStatus) =>
      (): Promise<E.Either<TrackError, void>> =>
        serial(async () => {
          const done = await l()
          if (E.isLeft(done)) return done
          if (lost !== undefined) return ending === 'FAILED' ? done : E.left(lost)
          if (!mirroring || offline) return done
          const sent = await attempt(r())
          if (E.isLeft(sent)) return mode === 'journal' && isUnreachable(sent.left) ? losing(sent.left) : sent
          mirroring = O.isSome(sent.right)
          return mirroring && confirmed ? confirm()() : E.right(undefined)
        })
    /**
     * Ending KILLED (the program is being stopped) does not wait for the operations queued
     * for the server: the journal ends at once, then the server's run after them. The
     * server's copy is not confirmed, so a sync replays the run from the last confirmation.
     * A killed run takes nothing more.
     */
    let killed = false
    const kill = (endTime: number): TE.TaskEither<TrackError, void> => async () => {
      killed = true
      const ended = await ls.end('KILLED', endTime)()
      if (E.isLeft(ended)) return ended
      return serial(() => (!mirroring || offline || lost !== undefined ? Promise.resolve(ended) : rs.end('KILLED', endTime)()))
    }
    const alive =
      <P extends ReadonlyArray<unknown>>(f: (...p: P) => TE.TaskEither<TrackError, void>) =>
      (...p: P): TE.TaskEither<TrackError, void> =>
        killed ? TE.left(runEnded(ls.runId)) : f(...p)
    return {
      runId: ls.runId,
      experimentId: rs.experimentId,
      logParams: alive((params) => both(ls.logParams(params), () => rs.logParams(params))),
      logMetrics: alive((metrics) => both(ls.logMetrics(metrics), () => rs.logMetrics(metrics))),
      setTags: alive((tags) => both(ls.setTags(tags), () => rs.setTags(tags))),
      logArtifact: alive((path, bytes) => both(ls.logArtifact(path, bytes), () => rs.logArtifact(path, bytes))),
      logInputs: alive((inputs) =>
        both(ls.logInputs(inputs), () =>
          rs.logInputs === undefined ? TE.left(unsupported('dataset inputs', remote.name)) : rs.logInputs(inputs)
        )
      ),
      flush: alive(() => both(ls.flush(), () => rs.flush(), true)),
      end: alive((status, endTime) =>
        status === 'KILLED' ? kill(endTime) : both(ls.end(status, endTime), () => rs.end(status, endTime), true, status)
      )
    }
  }

  /** A run on both sides, sharing the server's run id; the local one alone when offline. */
  const openBoth = (entry: Experiment, request: Parameters<Sink['openRun']>[0]): TE.TaskEither<TrackError, RunSink> =>
    async () => {
      const localRequest = { ...request, experimentId: entry.localId }
      if (offline || entry.remoteId === undefined) return local.openRun(localRequest)()
      const remoteRun = await attempt(remote.openRun({ ...request, experimentId: entry.remoteId }))
      if (E.isLeft(remoteRun)) return remoteRun
      if (O.isNone(remoteRun.right)) return local.openRun(localRequest)()
      const rs = remoteRun.right.value
      const opened = await pipe(
        local.openRun({ ...localRequest, runId: rs.runId }),
        TE.tap((ls) => Registry.recordSyncState(local.dir, ls.runId, { target: remote.name, remoteRunId: rs.runId, offset: ls.written() }))
      )()
      if (E.isLeft(opened)) {
        await rs.end('FAILED', request.startTime)()
        return opened
      }
      return E.right(mirror(opened.right, rs))
    }

  /** A local run mirrors into the server only when the server has all of it so far. */
  const reopenBoth = (ls: LocalRunSink): TE.TaskEither<TrackError, RunSink> =>
    pipe(
      Registry.readSyncStates(local.dir, ls.runId),
      TE.flatMap((states) => async () => {
        const state = states.find((s) => s.target === remote.name)
        if (offline || state === undefined || state.offset < ls.written()) return E.right<TrackError, RunSink>(ls)
        const remoteRun = await attempt(remote.reopenRun(state.remoteRunId))
        if (E.isLeft(remoteRun)) return remoteRun
        return E.right(O.isSome(remoteRun.right) ? mirror(ls, remoteRun.right.value) : ls)
      })
    )

  return {
    ...extrasOf(remote),
    name: `${remote.name} (${mode === 'fallback' ? 'falling back to' : 'journaled in'} ${local.name})`,
    journaled: { remote, dir: local.dir },
    experiment: (name) =>
      pipe(
        local.experiment(name),
        TE.flatMap((localId) => async () => {
          const remoteId = offline ? E.right(O.none) : await attempt(remote.experiment(name))
          if (E.isLeft(remoteId)) return remoteId
          const entry: Experiment = { name, localId, remoteId: O.toUndefined(remoteId.right) }
          experiments.set(localId, entry)
          if (entry.remoteId !== undefined) experiments.set(entry.remoteId, entry)
          return E.right(entry.remoteId ?? localId)
        })
      ),
    openRun: (request) => {
      const entry = experiments.get(request.experimentId)
      return entry === undefined ? TE.left(notFound('experiment', request.experimentId)) : openBoth(entry, request)
    },
    reopenRun: (runId) =>
      pipe(
        local.reopenRun(runId),
        TE.foldW(
          (e) => (e._tag === 'NotFound' ? remote.reopenRun(runId) : TE.left(e)),
          reopenBoth
        )
      )
  }
}

/**
 * The live sink over `remote` that falls back to `local` (what `withLocalFallback` builds).
 * @category constructors
 * @since 0.2.0
 */
export const fallbackOver = (remote: Sink, local: LocalSink, options: FallbackOptions & { readonly logger: Logger }): Sink =>
  mirrored(remote, local, options, 'fallback')

/**
 * The live sink over `remote` journaled in `local` (what `withLocalJournal` builds).
 * @category constructors
 * @since 0.2.0
 */
export const journalOver = (remote: Sink, local: LocalSink, options: FallbackOptions & { readonly logger: Logger }): Sink =>
  mirrored(remote, local, options, 'journal')

const combined = (
  mode: Mode,
  remote: Sink | SinkDescription,
  local: LocalSink | SinkDescription<LocalSink>,
  options: FallbackOptions
): SinkDescription =>
  describeSink(`${remote.name} (${mode === 'fallback' ? 'falling back to' : 'journaled in'} ${local.name})`, (context) =>
    pipe(
      TE.Do,
      TE.bind('r', () => buildSink(remote, context)),
      TE.bind('l', () => buildSink(local, context)),
      TE.map(({ r, l }) =>
        mirrored(r, l, { logger: options.logger ?? context.logger, defaultDir: options.defaultDir ?? context.localStore?.defaultDir }, mode)
      )
    )
  )

/**
 * `remote`, falling back to `local` when `remote` cannot be reached; see the module's
 * description. Either may be a description (built and closed with the sink) or a built sink
 * (kept open); the logger is the one given to `run` unless `options` names another.
 * @category constructors
 * @since 0.1.0
 */
export const withLocalFallback = (
  remote: Sink | SinkDescription,
  local: LocalSink | SinkDescription<LocalSink>,
  options: FallbackOptions = {}
): SinkDescription => combined('fallback', remote, local, options)

/**
 * `remote`, with every run journaled in `local` under the server's run id; when `remote`
 * cannot be reached mid-run, operations fail with an `Unsynced` error that says where the
 * run is kept and how to complete it. See the module's description. (`mlflowSink` journals
 * itself by default; this is for other remotes, or a store chosen per program.)
 *
 * @example
 * import { withLocalJournal, localSink, mlflowSink } from 'charmory-track'
 *
 * const sink = withLocalJournal(mlflowSink('http://127.0.0.1:5000', { journal: false }), localSink({ dir: '/tmp/journal' }))
 * assert.strictEqual(sink.name, 'mlflow:http://127.0.0.1:5000 (journaled in local:/tmp/journal)')
 *
 * @category constructors
 * @since 0.2.0
 */
export const withLocalJournal = (
  remote: Sink | SinkDescription,
  local: LocalSink | SinkDescription<LocalSink>,
  options: FallbackOptions = {}
): SinkDescription => combined('journal', remote, local, options)
