/**
 * Artifact paths: relative, `/`-separated paths inside a run's artifact folder, under one rule
 * for every sink, checked when an artifact is logged. The rule is MLflow's server's
 * (`validate_path_is_safe`), so that what the memory or local sink accepts reaches a server
 * intact when it is synced:
 *
 * - a path that would leave the folder (a `..` segment, an absolute path) is refused;
 * - so is one the server refuses outright (`#`), or would store under another name: it
 *   percent-decodes a path until it stops changing (`%2e%2e/x.txt` is `../x.txt` to it, and
 *   `a%20b` becomes `a b`), escapes control characters, reads a trailing `?` or `;` as URL
 *   syntax and drops it, and drops the leading spaces of a folder's path when it lists it;
 * - `\` and a first name that starts like a drive or a URL scheme (`C:`, `file:`) are refused
 *   too, as a server or store on Windows would.
 *
 * A `%` that starts no escape (`100%.txt`) is kept as it is, everywhere.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { kindOf } from './Arguments.js'
import { invalidArtifactPath, type TrackError } from './Errors.js'

// Python's urllib.parse.unquote: each run of %XX escapes is UTF-8, bad bytes U+FFFD.
const unquote = (s: string): string =>
  s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) =>
    new TextDecoder().decode(Uint8Array.from(escapes.slice(1).split('%'), (h) => parseInt(h, 16)))
  )

const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Whether Python's `urlunparse(urlparse(p))`, which the server applies while decoding, would
 * drop a `?` (an empty query) or a `;` (empty params of the last segment) from `p`.
 */
const urlSyntaxDropped = (path: string): boolean => {
  const q = path.indexOf('?')
  const beforeQuery = q < 0 ? path : path.slice(0, q)
  const last = beforeQuery.slice(beforeQuery.lastIndexOf('/') + 1)
  const semicolon = last.indexOf(';')
  return q === path.length - 1 || (semicolon >= 0 && semicolon === last.length - 1)
}

/** Whether the path, or a folder on it (which the server lists and reads by its path), loses a character. */
const anyPrefixDropped = (path: string): boolean => {
  for (let end = path.indexOf('/'); end >= 0; end = path.indexOf('/', end + 1)) {
    if (urlSyntaxDropped(path.slice(0, end))) return true
  }
  return urlSyntaxDropped(path)
}

/** Why MLflow's server would refuse `path` or store it under another name, if it would. */
const serverProblem = (path: string): string | undefined => {
  if (CONTROL.test(path)) return 'a control character would be stored as a %xx escape by the MLflow server'
  if (path.includes('#')) return 'the MLflow server refuses "#" in a path'
  if (unquote(path) !== path) {
    return 'the MLflow server percent-decodes paths (%2e is ".", %20 a space): write the characters themselves'
  }
  if (path.startsWith(' ') && path.includes('/')) {
    return 'the MLflow server drops the leading spaces of a folder\'s name when it lists the folder'
  }
  if (anyPrefixDropped(path)) return 'the MLflow server reads a "?" or ";" at the end of a name as URL syntax and drops it'
  return undefined
}

/**
 * The path in normal form (`a/./b//c` becomes `a/b/c`), or `InvalidArtifactPath` when any sink
 * (MLflow's server above all) would refuse it or store it under another name (a path that is
 * not a string, from JavaScript, too: since 0.3.0).
 *
 * @example
 * import { ArtifactPath } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * assert.deepStrictEqual(ArtifactPath.validateArtifactPath('plots/./roc.png'), E.right('plots/roc.png'))
 * assert.ok(E.isLeft(ArtifactPath.validateArtifactPath('../secrets')))
 * assert.ok(E.isLeft(ArtifactPath.validateArtifactPath('%2e%2e/secrets')))
 *
 * @category utils
 * @since 0.1.0
 */
export const validateArtifactPath = (path: string): E.Either<TrackError, string> => {
  if (typeof path !== 'string') return E.left(invalidArtifactPath(kindOf(path), `an artifact path is a string, not ${kindOf(path)}`))
  if (path.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) {
    return E.left(invalidArtifactPath(path, 'an artifact path must be relative to the run'))
  }
  if (path.includes('\\')) return E.left(invalidArtifactPath(path, 'use "/" to separate folders'))
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.includes('..')) return E.left(invalidArtifactPath(path, 'a ".." segment would leave the run folder'))
  if (segments.length === 0) return E.left(invalidArtifactPath(path, 'the path names no file'))
  const normal = segments.join('/')
  const problem = serverProblem(normal)
  return problem === undefined ? E.right(normal) : E.left(invalidArtifactPath(path, problem))
}

/**
 * `dir/name`, or `name` when `dir` is empty or absent.
 * @category utils
 * @since 0.1.0
 */
export const joinArtifactPath = (dir: string | undefined, name: string): string =>
  dir === undefined || dir === '' ? name : `${dir}/${name}`
