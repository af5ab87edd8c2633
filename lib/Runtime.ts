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
import * as C from './Context.js'
import type { Env, EnvInput, Logger } from './Env.js'
import { describeError, TrackingFailure, taskFailed, type TrackError } from './Errors.js'
import { openRuns, type EndFailure } from './OpenRuns.js'
import type { Platform, Interrupts } from './platform/Platform.js'
import { acquireSink, type RunStatus, type Sink, type SinkDescription } from './Sink.js'
import type { Track } from './Track.js'

// -------------------------------------------------------------------------------------
// the sink a run writes to
// -------------------------------------------------------------------------------------


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

let deadline: ReturnType<typeof setTimeout> | undefined
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
  clearTimeout(deadline)
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
  deadline = setTimeout(() => {
    for (const r of runs) r.env.logger.warn(`the open runs were not ended within ${graceMs} ms; exiting`)
    exit(signals, code)
  }, graceMs)
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
 * import { endOpenRuns } from 'charmory-track'
 *
 * process.once('SIGINT', () => void endOpenRuns().then(() => process.exit(130)))
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
 * `run`, rejecting with a `TrackingFailure` instead of returning a `Left`.
 * @category model
 * @since 0.2.0
 */
export type RunPromise = <A>(pipeline: Track<A>, env: EnvInput, context?: C.Context) => Promise<A>

/**
 * Builds a sink description for use by many `run`s (a long-lived sink), from the platform
 * with `overrides` (a logger, a clock, ...) in place; whoever opened it calls `close`.
 * @category model
 * @since 0.2.0
 */
export type OpenSink = <S extends Sink>(
  description: SinkDescription<S>,
  overrides?: Partial<Platform>
) => Promise<E.Either<TrackError, S & { readonly close: () => Promise<void> }>>

/**
 * The `run`, `runPromise` and `openSink` of a platform.
 * @category interpreters
 * @since 0.2.0
 */
export const runIn = (platform: Platform): { readonly run: Run; readonly runPromise: RunPromise; readonly openSink: OpenSink } => {
  const run: Run = async <A>(pipeline: Track<A>, input: EnvInput, context = C.empty()): Promise<E.Either<TrackError, A>> => {
    const { signals: handleSignals, graceMs, sink: given, ...overrides } = input
    const here: Platform = { ...platform, ...overrides }
    const acquired = await acquireSink(given, here)()
    if (E.isLeft(acquired)) return acquired
    const runs = openRuns()
    const env: Env = { ...here, sink: runs.track(acquired.right.sink), openRuns: runs }
    const running: Running = { env, graceMs: graceMs ?? 5000 }
    registries.add(running)
    if (handleSignals !== false) enter(running)
    let result: E.Either<TrackError, A>
    try {
      result = (await pipeline(context, env)).result
    } catch (e) {
      result = E.left(taskFailed(e))
    }
    await acquired.right.release()
    registries.delete(running)
    leave(running)
    // the program is on its way out: it does not go on meanwhile
    if (stopping) await shutdown?.done
    return result
  }
  const runPromise: RunPromise = async (pipeline, input, context) => {
    const result = await run(pipeline, input, context)
    if (E.isLeft(result)) throw new TrackingFailure(result.left)
    return result.right
  }
  const openSink: OpenSink = (description, overrides = {}) => description.build({ ...platform, ...overrides })()
  return { run, runPromise, openSink }
}
