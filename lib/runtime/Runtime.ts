/**
 * Running a pipeline, on any platform: `runIn(platform)` makes the `run`, `runPromise` and
 * `openSink` of a platform (the package exports those of `nodePlatform`, or of
 * `browserPlatform` in a browser build), supplying the platform's capabilities wherever the
 * caller gave none and handing the pipeline an empty context.
 *
 * `run` builds the sink the pipeline writes to when it is given a description (`mlflowSink`,
 * `localSink`, `sinkFromEnv`): from the platform, with the logger given to `run`, so that a
 * configuration error is a `Left`; it closes what it built when the pipeline ends, also on
 * failure. Every run the sink opens is registered in `env.openRuns` until it ends. While `run`
 * runs, SIGINT and SIGTERM end the open runs `KILLED` (what was logged delivered first, within
 * `graceMs`) and exit with 130 / 143; a second signal exits at once. `{ signals: false }`
 * leaves the signals to the program, which can call `endOpenRuns`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as C from '../Context.js'
import type { Env, EnvInput } from '../Env.js'
import { describeError, TrackException, taskFailed, type TrackError } from '../Errors.js'
import { openRuns, type EndFailure } from '../OpenRuns.js'
import type { Interrupts, Logger, Platform } from '../platform/Platform.js'
import type { RunStatus } from '../Records.js'
import * as Scope from '../Scope.js'
import { buildSink, type LocalStoreSupport, type Sink, type SinkContext, type SinkDescription } from '../Sink.js'
import type { Track } from '../Track.js'

export type { Env, EnvInput, RunOptions } from '../Env.js'


// -------------------------------------------------------------------------------------
// signals
// -------------------------------------------------------------------------------------

interface Running {
  readonly env: Env
  readonly graceMs: number
}

/** Every `run` in progress; those handling signals. */
const registries = new Set<Running>()
const interruptible = new Set<Running>()
/** The subscriptions to each platform's signals, one per `Interrupts` while a run uses it. */
const subscriptions = new Map<Interrupts, () => void>()
let stopping = false

/** The shell's status for a process ended by the signal: 128 + its number. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const

const report = (logger: Logger, failures: ReadonlyArray<EndFailure>): void => {
  for (const f of failures) logger.warn(`run ${f.runId} could not be ended: ${describeError(f.error)}`)
}

let cancelDeadline: (() => void) | undefined
/** Settles when a shutdown ends without the process exiting (the exit stubbed, in specs). */
let shutdown: { readonly done: Promise<void>; readonly settle: () => void } | undefined

const unsubscribeIdle = (): void => {
  for (const [signals, off] of subscriptions) {
    if ([...interruptible].some((r) => r.env.interrupts === signals)) continue
    off()
    subscriptions.delete(signals)
  }
}

/** Exits; were the exit stubbed (in a spec), the program is as if no signal had come. */
const exit = (signals: Interrupts, code: number): void => {
  cancelDeadline?.()
  cancelDeadline = undefined
  stopping = false
  shutdown?.settle()
  unsubscribeIdle()
  signals.exit(code)
}

const onSignal = (signals: Interrupts) => (signal: 'SIGINT' | 'SIGTERM'): void => {
  const code = EXIT_CODES[signal]
  if (stopping) return exit(signals, code)
  stopping = true
  let settle!: () => void
  const done = new Promise<void>((ok) => (settle = ok))
  shutdown = { done, settle }
  const runs = [...interruptible]
  for (const r of runs) {
    const open = r.env.openRuns.size()
    if (open > 0) r.env.logger.warn(`${signal}: ending the open runs KILLED (${open}); ${signal} again exits at once`)
  }
  const graceMs = Math.max(...runs.map((r) => r.graceMs))
  // the deadline keeps the program alive: a program whose runs cannot end still exits with the signal's code
  cancelDeadline = runs[0]!.env.timers.after(
    graceMs,
    () => {
      for (const r of runs) r.env.logger.warn(`the open runs were not ended within ${graceMs} ms; exiting`)
      exit(signals, code)
    },
    true
  )
  void endOpenRuns('KILLED').then(() => stopping && exit(signals, code))
}

const enter = (running: Running): void => {
  interruptible.add(running)
  const { interrupts: signals } = running.env
  if (!subscriptions.has(signals)) subscriptions.set(signals, signals.onInterrupt(onSignal(signals)))
}

const leave = (running: Running): void => {
  interruptible.delete(running)
  if (!stopping) unsubscribeIdle()
}

/**
 * Ends every run that a `run` in progress in this program has open, with `status` (`KILLED`
 * by default) and the clock's time, delivering what was logged first, and flushes reopened
 * runs; resolves once they ended (a run that could not be ended is reported to the logger).
 * For programs that handle SIGINT / SIGTERM themselves (`run(..., { signals: false })`).
 *
 * @example
 * import { Runtime } from 'charmory-track'
 *
 * process.once('SIGINT', () => void Runtime.endOpenRuns().then(() => process.exit(130)))
 *
 * @category interpreters
 * @since 0.2.0
 */
export const endOpenRuns = async (status: RunStatus = 'KILLED'): Promise<void> => {
  await Promise.all([...registries].map(async (r) => report(r.env.logger, await r.env.openRuns.endAll(status, r.env.clock.now()))))
}

// -------------------------------------------------------------------------------------
// interpreters
// -------------------------------------------------------------------------------------

/**
 * Runs a pipeline, from an empty context unless one is given; never rejects.
 * @category model
 * @since 0.2.0
 */
export type Run = <A>(pipeline: Track<A>, env: EnvInput, context?: C.Context) => Promise<E.Either<TrackError, A>>

/**
 * `run`, rejecting with a `TrackException` instead of returning a `Left`.
 * @category model
 * @since 0.2.0
 */
export type RunPromise = <A>(pipeline: Track<A>, env: EnvInput, context?: C.Context) => Promise<A>

/**
 * Builds a sink description for use by many `run`s (a long-lived sink), from the platform
 * with `overrides` (a logger, a clock, ...) in place; whoever opened it calls `close`, which
 * releases everything the build opened (all of it, in reverse order) and rejects with the first
 * failure, if any, once every release was tried.
 * @category model
 * @since 0.2.0
 */
export type OpenSink = <S extends Sink>(
  description: SinkDescription<S>,
  overrides?: Partial<Platform>
) => Promise<E.Either<TrackError, S & { readonly close: () => Promise<void> }>>

/**
 * What a runtime adds to its platform for the sinks it builds: the local run store for the
 * variables and home folder a run is given (Node has one, a browser none).
 * @category model
 * @since 0.3.0
 */
export interface Services {
  readonly localStore?: (platform: Platform) => LocalStoreSupport
}

const warnLost = (logger: Logger) => (e: TrackError): void => logger.warn(`releasing the sink: ${describeError(e)}`)

/**
 * The `run`, `runPromise` and `openSink` of a platform (and of the services its runtime adds).
 * @category interpreters
 * @since 0.2.0
 */
export const runIn = (
  platform: Platform,
  services: Services = {}
): { readonly run: Run; readonly runPromise: RunPromise; readonly openSink: OpenSink } => {
  const contextOf = (here: Platform, scope: Scope.Scope): SinkContext => {
    const localStore = services.localStore?.(here)
    return { ...here, scope, ...(localStore === undefined ? {} : { localStore }) }
  }
  const run: Run = async <A>(pipeline: Track<A>, input: EnvInput, context = C.empty()): Promise<E.Either<TrackError, A>> => {
    const { signals: handleSignals, graceMs, sink: given, ...overrides } = input
    const here: Platform = { ...platform, ...overrides }
    let running: Running | undefined
    const result = await Scope.scoped(
      (scope) =>
        TE.flatMap((sink: Sink) => async () => {
          const runs = openRuns()
          const env: Env = { ...here, sink: runs.track(sink), openRuns: runs }
          running = { env, graceMs: graceMs ?? 5000 }
          registries.add(running)
          if (handleSignals !== false) enter(running)
          try {
            return (await pipeline(context, env)).result
          } catch (e) {
            return E.left(taskFailed(e))
          }
        })(buildSink(given, contextOf(here, scope))),
      warnLost(here.logger)
    )()
    if (running !== undefined) {
      registries.delete(running)
      leave(running)
    }
    // the program is on its way out: it does not go on meanwhile
    if (stopping) await shutdown?.done
    return result
  }
  const runPromise: RunPromise = async (pipeline, input, context) => {
    const result = await run(pipeline, input, context)
    if (E.isLeft(result)) throw new TrackException(result.left)
    return result.right
  }
  const openSink: OpenSink = async (description, overrides = {}) => {
    const here: Platform = { ...platform, ...overrides }
    const scope = Scope.make()
    const built = await buildSink(description, contextOf(here, scope))()
    if (E.isLeft(built)) return built
    const close = async (): Promise<void> => {
      const [first, ...rest] = await scope.close()
      rest.forEach(warnLost(here.logger))
      if (first !== undefined) throw new TrackException(first)
    }
    return E.right({ ...built.right, close })
  }
  return { run, runPromise, openSink }
}
