/**
 * Artifact paths: relative, `/`-separated paths inside a run's artifact folder. A path that
 * would leave the folder (a `..` segment, an absolute path) is refused before anything is
 * read or sent.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidArtifactPath, type TrackError } from './Errors.js'

/**
 * The path in normal form (`a/./b//c` becomes `a/b/c`), or `InvalidArtifactPath`.
 *
 * @example
 * import { validateArtifactPath } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * assert.deepStrictEqual(validateArtifactPath('plots/./roc.png'), E.right('plots/roc.png'))
 * assert.ok(E.isLeft(validateArtifactPath('../secrets')))
 *
 * @category utils
 * @since 0.1.0
 */
export const validateArtifactPath = (path: string): E.Either<TrackError, string> => {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    return E.left(invalidArtifactPath(path, 'an artifact path must be relative to the run'))
  }
  if (path.includes('\\')) return E.left(invalidArtifactPath(path, 'use "/" to separate folders'))
  const segments = path.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.includes('..')) return E.left(invalidArtifactPath(path, 'a ".." segment would leave the run folder'))
  if (segments.length === 0) return E.left(invalidArtifactPath(path, 'the path names no file'))
  return E.right(segments.join('/'))
}

/**
 * `dir/name`, or `name` when `dir` is empty or absent.
 * @category utils
 * @since 0.1.0
 */
export const joinArtifactPath = (dir: string | undefined, name: string): string =>
  dir === undefined || dir === '' ? name : `${dir}/${name}`
