/**
 * The private bookkeeping of a `Context`, under a symbol the package does not export: the
 * prefixes that wrapped calls (`withParams`, `withInitParams`) recorded params under.
 *
 * @since 0.2.0
 */

/**
 * The key of a context's bookkeeping.
 * @category utils
 * @since 0.2.0
 */
export const WRAPPED: unique symbol = Symbol('charmory-track/Context.wrapped')

/**
 * No prefix recorded yet.
 * @category utils
 * @since 0.2.0
 */
export const NO_PREFIXES: ReadonlySet<string> = new Set()
