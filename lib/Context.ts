/**
 * A tracking context: the params recorded so far. It is an immutable value: a pipeline threads
 * it from step to step, `fork` gives a sub-pipeline a child context, and no context is ever
 * shared mutably. What else it keeps (the prefixes wrapped calls used) is private; the run an
 * evaluation writes to reaches its task through the environment, not through the context.
 *
 * @since 0.1.0
 */
import { NO_PREFIXES, WRAPPED } from './internal/context.js'
import * as P from './Params.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The state a pipeline carries from step to step: the params recorded so far (and private
 * bookkeeping, kept by `{ ...context, params }`).
 * @category model
 * @since 0.1.0
 */
export interface Context {
  readonly params: P.Params
  /** Private: the prefixes wrapped calls recorded params under here. */
  readonly [WRAPPED]: ReadonlySet<string>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * No params, outside any run.
 * @category constructors
 * @since 0.1.0
 */
export const empty = (): Context => ({ params: P.empty, [WRAPPED]: NO_PREFIXES })

/**
 * A context holding these params, outside any run.
 * @category constructors
 * @since 0.1.0
 */
export const fromParams = (params: P.Params): Context => ({ params, [WRAPPED]: NO_PREFIXES })
