/**
 * A tracking context: the params recorded so far and, inside an evaluation, the run that
 * the evaluation writes to. It is an immutable value: a pipeline threads it from step to
 * step, `fork` gives a sub-pipeline a child context, and no context is ever shared mutably.
 *
 * @since 0.1.0
 */
import * as O from 'fp-ts/lib/Option.js'
import * as P from './Params.js'
import type { RunSink } from './Sink.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The state a pipeline carries from step to step: the params recorded so far, and the run
 * being written to inside an evaluation.
 * @category model
 * @since 0.1.0
 */
export interface Context {
  readonly params: P.Params
  /**
   * The prefixes that wrapped calls (`withParams`, `withInitParams`) recorded params under
   * here: the first call with a prefix leaves the params of other wrapped calls under it
   * alone, a repeated one replaces everything under it.
   */
  readonly prefixes: ReadonlySet<string>
  readonly run: O.Option<RunSink>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * No params, outside any run.
 * @category constructors
 * @since 0.1.0
 */
export const empty = (): Context => ({ params: P.fresh(), prefixes: new Set(), run: O.none })

/**
 * A context holding these params, outside any run.
 * @category constructors
 * @since 0.1.0
 */
export const fromParams = (params: P.Params): Context => ({ params, prefixes: new Set(), run: O.none })
