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
import { kindOf } from './Arguments.js'
import { invalidKey, type TrackError } from './Errors.js'

/**
 * The longest key MLflow accepts.
 * @category constants
 * @since 0.1.0
 */
export const MAX_KEY_LENGTH = 250

// Python's `\w` matches Unicode letters and numbers, and so does the server's check.
const ALLOWED = /^[/\p{L}\p{N}_.\- :]*$/u

const SLASH = 0x2f
const DOT = 0x2e

// Keys are checked on every recorded param and metric point, so the common case (ASCII
// letters, digits and the allowed punctuation) is checked without the Unicode regex.
const plainAscii = (key: string): boolean => {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    const letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a
    // 0-9 and ":" are contiguous; then "_", ".", "-", " ", "/"
    if (!(letter || (c >= 0x30 && c <= 0x3a) || c === 0x5f || c === DOT || c === 0x2d || c === 0x20 || c === SLASH)) return false
  }
  return true
}

/** The problem of the first empty, `.` or `..` segment between slashes, without splitting. */
const segmentProblem = (key: string): string | undefined => {
  let start = 0
  for (let i = 0; i <= key.length; i++) {
    if (i < key.length && key.charCodeAt(i) !== SLASH) continue
    const length = i - start
    if (length === 0) return 'a key cannot start or end with "/" or contain "//"'
    if (length <= 2 && key.charCodeAt(start) === DOT && key.charCodeAt(i - 1) === DOT) {
      return 'a key cannot contain a "." or ".." path segment'
    }
    start = i + 1
  }
  return undefined
}

/**
 * Why `key` would be refused, or `undefined` when it is fine. A key that is not a string (from
 * JavaScript) is refused too (since 0.3.0).
 * @category utils
 * @since 0.1.0
 */
export const keyProblem = (key: unknown): string | undefined => {
  if (typeof key !== 'string') return `a key is a string, not ${kindOf(key)}`
  if (key.length === 0) return 'a key cannot be empty'
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters (${key.length})`
  if (!plainAscii(key) && !ALLOWED.test(key)) return 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'
  return segmentProblem(key)
}

/**
 * The key itself when MLflow would accept it, else an `InvalidKey` naming it.
 *
 * @example
 * import { Key } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * assert.deepStrictEqual(Key.validateKey('load_model.lr'), E.right('load_model.lr'))
 * assert.ok(E.isLeft(Key.validateKey('a//b')))
 *
 * @category utils
 * @since 0.1.0
 */
export const validateKey = (key: unknown): E.Either<TrackError, string> => {
  const problem = keyProblem(key)
  return problem === undefined ? E.right(key as string) : E.left(invalidKey(shownKey(key), problem))
}

/**
 * A key as an error names it: itself, or for a key that is not a string (from JavaScript) its
 * text (`123`, `null`) or what it is (`an object`).
 * @category utils
 * @since 0.3.0
 */
export const shownKey = (key: unknown): string => {
  if (typeof key === 'string') return key
  // a function's text is its source: never quoted
  return typeof key === 'function' || (typeof key === 'object' && key !== null) ? kindOf(key) : String(key)
}
