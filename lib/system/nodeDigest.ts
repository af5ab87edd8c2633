/**
 * Dataset digests as MLflow computes them (`mlflow/data/digest_utils.py`,
 * `get_normalized_md5_digest`): the MD5 of the content, its first 8 hex digits. MD5 is not
 * in Web Crypto, hence `node:crypto` here, in a Node-only module.
 *
 * @example
 * import { Digest } from 'charmory-track'
 *
 * assert.strictEqual(Digest.digestOf(new TextEncoder().encode('hello')), '5d41402a')
 *
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { fileError, type TrackError } from '../Errors.js'

/**
 * The digest of `bytes`: 8 hex digits, as MLflow digests one hashable element.
 * @category utils
 * @since 0.2.0
 */
export const digestOf = (bytes: Uint8Array | string): string =>
  createHash('md5').update(bytes).digest('hex').slice(0, 8)

/**
 * The digest of the file at `path`, read as a stream (any size); a `FileError` naming the
 * path when it cannot be read.
 * @category utils
 * @since 0.2.0
 */
export const fileDigest = (path: string): TE.TaskEither<TrackError, string> =>
  TE.tryCatch(
    () =>
      new Promise<string>((resolve, reject) => {
        const hash = createHash('md5')
        createReadStream(path)
          .on('data', (chunk) => hash.update(chunk))
          .on('error', reject)
          .on('end', () => resolve(hash.digest('hex').slice(0, 8)))
      }),
    // a stream fails with an Error (ENOENT, EISDIR, EACCES)
    (e) => fileError(path, (e as Error).message)
  )
