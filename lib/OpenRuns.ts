/**
 * The runs a program has open, so that an interrupted program can end them.
 *
 * `run` keeps one registry in the environment it builds (`env.openRuns`) and hands the
 * pipeline a sink that registers every run it opens until the run has ended (a reopened run
 * until it was flushed). `endAll` ends every registered run, delivering what its sink holds
 * first: this is what `run` does on SIGINT and SIGTERM, and what `endOpenRuns` does for a
 * program that handles its signals itself. A run ended by `endAll` takes nothing more: its
 * operations fail with `RunEnded`, so no point is accepted that could then be lost. Nothing
 * here touches the process.
 *
 * @example
 * import { OpenRuns, memorySink } from 'charmory-track'
 *
 * const runs = OpenRuns.openRuns()
 * const sink = runs.track(memorySink())
 * // ... runs opened through `sink` are ended KILLED by:
 * await runs.endAll('KILLED', Date.now())
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { runEnded, type TrackError } from './Errors.js'
import type { RunSink, RunStatus, Sink } from './Sink.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A run that could not be ended (or flushed) by `endAll`.
 * @category model
 * @since 0.2.0
 */
export interface EndFailure {
  readonly runId: string
  readonly error: TrackError
}

/**
 * A registry of open runs.
 * @category model
 * @since 0.2.0
 */
export interface OpenRuns {
  /** `sink`, registering each run it opens (or reopens) until it has ended (or was flushed). */
  readonly track: (sink: Sink) => Sink
  /**
   * Ends every registered run with `status` at `endTime`, flushes every reopened one, and
   * waits for the runs already ending; resolves with the runs that failed.
   */
  readonly endAll: (status: RunStatus, endTime: number) => Promise<ReadonlyArray<EndFailure>>
  /** How many runs are registered. */
  readonly size: () => number
}

interface Entry {
  /** The registered run, as its user sees it. */
  run: RunSink
  readonly reopened: boolean
  ending: Promise<E.Either<TrackError, void>> | undefined
  /** Ended by `endAll`: the run takes nothing more. */
  closed: boolean
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * An empty registry.
 * @category constructors
 * @since 0.2.0
 */
export const openRuns = (): OpenRuns => {
  const open = new Set<Entry>()

  const register = (run: RunSink, reopened: boolean): RunSink => {
    const entry: Entry = { run, reopened, ending: undefined, closed: false }
    const last =
      (step: TE.TaskEither<TrackError, void>): TE.TaskEither<TrackError, void> =>
      () => {
        const ending = step()
        entry.ending = ending
        return ending.finally(() => open.delete(entry))
      }
    /** Once `endAll` ended the run, an operation is refused: nothing is taken that could be lost. */
    const guard =
      <P extends ReadonlyArray<unknown>>(f: (...p: P) => TE.TaskEither<TrackError, void>) =>
      (...p: P): TE.TaskEither<TrackError, void> =>
      () =>
        entry.closed ? Promise.resolve(E.left(runEnded(run.runId))) : f(...p)()
    entry.run = {
      ...run,
      logParams: guard(run.logParams),
      logMetrics: guard(run.logMetrics),
      setTags: guard(run.setTags),
      logArtifact: guard(run.logArtifact),
      ...(run.logInputs === undefined ? {} : { logInputs: guard(run.logInputs) }),
      // after `endAll`, ending again (as `evaluate` does when its task fails) is that same end
      end: (status, endTime) => () => (entry.closed && entry.ending !== undefined ? entry.ending : last(run.end(status, endTime))()),
      flush: reopened ? () => last(guard(run.flush)()) : guard(run.flush)
    }
    open.add(entry)
    return entry.run
  }

  const opened =
    (reopened: boolean) =>
    (ma: TE.TaskEither<TrackError, RunSink>): TE.TaskEither<TrackError, RunSink> =>
    async () => {
      const r = await ma()
      return E.isLeft(r) ? r : E.right(register(r.right, reopened))
    }

  return {
    track: (sink) => ({
      ...sink,
      openRun: (request) => opened(false)(sink.openRun(request)),
      reopenRun: (runId) => opened(true)(sink.reopenRun(runId))
    }),
    endAll: async (status, endTime) => {
      const results = await Promise.all(
        [...open].map(async (entry) => {
          const ending = entry.ending ?? (entry.reopened ? entry.run.flush()() : entry.run.end(status, endTime)())
          entry.closed = true
          const ended = await ending
          return E.isLeft(ended) ? [{ runId: entry.run.runId, error: ended.left }] : []
        })
      )
      return results.flat()
    },
    size: () => open.size
  }
}
