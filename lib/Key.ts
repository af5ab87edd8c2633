/**
 * The key rules an MLflow tracking server applies to param, metric and tag keys, checked here
 * so that a bad key fails where it is recorded rather than when the run is committed.
 *
 * A key is at most 250 characters of letters, digits, `_`, `-`, `.`, `/`, space and `:`, and it
 * must read the same once normalised as a path: no empty, `.` or `..` segment (so no leading
 * or trailing `/` and no `//`).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidKey, type TrackError } from './Errors.js'

/**
 * The longest key MLflow accepts.
 * @category constants
 * @since 0.1.0
 */
export const MAX_KEY_LENGTH = 250

// Python's `\w` matches Unicode letters and numbers, and so does the server's check.
const ALLOWED = /^[/\p{L}\p{N}_.\- :]*$/u

/**
 * Why `key` would be refused, or `undefined` when it is fine.
 * @category utils
 * @since 0.1.0
 */
export const keyProblem = (key: string): string | undefined => {
  if (key.length === 0) return 'a key cannot be empty'
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters (${key.length})`
  if (!ALLOWED.test(key)) return 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'
  for (const segment of key.split('/')) {
    if (segment === '') return 'a key cannot start or end with "/" or contain "//"'
    if (segment === '.' || segment === '..') return 'a key cannot contain a "." or ".." path segment'
  }
  return undefined
}

/**
 * The key itself when MLflow would accept it, else an `InvalidKey` naming it.
 *
 * @example
 * import { validateKey } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * assert.deepStrictEqual(validateKey('load_model.lr'), E.right('load_model.lr'))
 * assert.ok(E.isLeft(validateKey('a//b')))
 *
 * @category utils
 * @since 0.1.0
 */
export const validateKey = (key: string): E.Either<TrackError, string> => {
  const problem = keyProblem(key)
  return problem === undefined ? E.right(key) : E.left(invalidKey(key, problem))
}
