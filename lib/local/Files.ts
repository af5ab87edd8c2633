/**
 * The file primitives of the local store: reading a file line by line in bounded memory (a torn
 * last line skipped), decoding a line or a whole file with its codec, listing a folder, and the
 * writes that never leave half a file behind (a temporary file renamed or hard-linked into place).
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type * as t from 'io-ts/lib/index.js'
import { link, open, readdir, readFile, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { decodeError, describeUnknown, fileError, type TrackError } from '../Errors.js'

// -------------------------------------------------------------------------------------
// reading
// -------------------------------------------------------------------------------------

let temporaries = 0

/** A name beside `path` that no other write uses: this process's id and a counter of its own. */
const temporary = (path: string): string => `${path}.${process.pid}-${++temporaries}.tmp`

/**
 * Orders names by code points, as `sort()` does, for use inside a comparison.
 * @category utils
 * @since 0.3.0
 */
export const byText = (a: string, b: string): number => Number(a > b) - Number(a < b)

/**
 * Whether what a file operation threw says that there is no such file.
 * @category utils
 * @since 0.3.0
 */
export const isMissing = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'ENOENT'

/** The first decoding failure as `field path` and what was expected there. */
const firstProblem = (errors: t.Errors): { path: string; message: string } => {
  const first = errors[0]
  if (first === undefined) return { path: '(record)', message: 'unexpected shape' }
  const path = first.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  const expected = first.context.map((c) => c.type.name)
  return { path: path === '' ? '(record)' : path, message: `expected ${expected[expected.length - 1]}` }
}

/**
 * Parses and decodes one line of a store file, or a `DecodeError` naming `file:line` and the
 * field at fault.
 * @category utils
 * @since 0.1.0
 */
export const decodeLine = <A>(codec: t.Decoder<unknown, A>, text: string, file: string, line: number): E.Either<TrackError, A> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(decodeError(`${file}:${line}`, '(line)', `not JSON: ${describeUnknown(e)}`))
  }
  return pipe(
    codec.decode(json),
    E.mapLeft((errors) => {
      const problem = firstProblem(errors)
      return decodeError(`${file}:${line}`, problem.path, problem.message)
    })
  )
}

/**
 * Calls `onLine` with each complete line of `file` (its text, its 1-based number and the
 * byte offset just after it), reading a chunk at a time so that memory stays bounded. A last
 * line without a newline is torn and skipped. Yields the length of the complete lines; a
 * missing file has none. `onLine` stops the walk by returning a `Left`.
 * @category utils
 * @since 0.1.0
 */
export const readLines = (
  file: string,
  onLine: (text: string, line: number, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>
): TE.TaskEither<TrackError, number> =>
  async () => {
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (e) {
      return isMissing(e) ? E.right(0) : E.left(fileError(file, describeUnknown(e)))
    }
    return walkLines(handle, onLine).then(
      (r) => handle.close().then(() => r),
      (e: unknown) => handle.close().then(() => E.left(fileError(file, describeUnknown(e))))
    )
  }

const walkLines = async (
  handle: FileHandle,
  onLine: (text: string, line: number, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>
): Promise<E.Either<TrackError, number>> => {
  const chunk = Buffer.allocUnsafe(1 << 20)
  let carry: Buffer = Buffer.alloc(0)
  let consumed = 0
  let line = 0
  for (let n = await readChunk(handle, chunk); n > 0; n = await readChunk(handle, chunk)) {
    const data = carry.length === 0 ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)])
    let start = 0
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      line += 1
      consumed += nl + 1 - start
      const r = onLine(data.toString('utf8', start, nl), line, consumed)
      const result = r instanceof Promise ? await r : r
      if (E.isLeft(result)) return result
      start = nl + 1
    }
    carry = Buffer.from(data.subarray(start))
  }
  return E.right(consumed)
}

const readChunk = async (handle: FileHandle, chunk: Buffer): Promise<number> =>
  (await handle.read(chunk, 0, chunk.length, null)).bytesRead

/**
 * A whole file decoded with `codec`; undefined when there is no such file.
 * @category utils
 * @since 0.3.0
 */
export const readJson = <A>(file: string, codec: t.Decoder<unknown, A>): TE.TaskEither<TrackError, A | undefined> =>
  async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      return isMissing(e) ? E.right(undefined) : E.left(fileError(file, describeUnknown(e)))
    }
    return decodeLine(codec, text, file, 1)
  }

/**
 * The names in a folder, sorted; none when there is no such folder.
 * @category utils
 * @since 0.3.0
 */
export const listDir = (path: string): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
  TE.tryCatch(
    () => readdir(path).then((names) => names.sort(), (e: unknown) => (isMissing(e) ? [] : Promise.reject(e))),
    (e) => fileError(path, describeUnknown(e))
  )

/**
 * Runs `f` over `xs` with at most `width` at once, keeping their order; the first failure
 * stops it. How the readers go through a store's runs: many small files at once, never a
 * thousand open together.
 * @category utils
 * @since 0.2.0
 */
export const traverseWide =
  <A, B>(width: number, f: (a: A) => TE.TaskEither<TrackError, B>) =>
  (xs: ReadonlyArray<A>): TE.TaskEither<TrackError, ReadonlyArray<B>> =>
  async () => {
    const out: Array<B> = []
    for (let i = 0; i < xs.length; i += width) {
      const some = await TE.traverseArray(f)(xs.slice(i, i + width))()
      if (E.isLeft(some)) return some
      out.push(...some.right)
    }
    return E.right(out)
  }

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

/**
 * How a file is hard-linked (`link` of `node:fs/promises`), spelled out so that the published
 * types name no Node module: a project without `@types/node` reads them.
 * @category utils
 * @since 0.2.0
 */
export type LinkFile = (existingPath: string, newPath: string) => Promise<void>

/**
 * Hard-links `from` to `to` unless `to` exists; yields whether it linked. `linkFile` is the
 * file system's (a parameter so that tests can make it fail).
 * @category utils
 * @since 0.1.0
 */
export const linkUnlessExists = (from: string, to: string, linkFile: LinkFile = link): Promise<boolean> =>
  linkFile(from, to).then(
    () => true,
    (e: unknown) => ((e as { code?: unknown }).code === 'EEXIST' ? false : Promise.reject(e))
  )

/**
 * Writes `text` to `path` only if nothing is there yet, atomically: the text goes to a
 * temporary file first and is hard-linked into place, so a reader never sees half a file
 * and of two processes racing, exactly one wins. Yields whether this call created it.
 * @category utils
 * @since 0.1.0
 */
export const createExclusive = (path: string, text: string, linkFile: LinkFile = link): TE.TaskEither<TrackError, boolean> =>
  TE.tryCatch(
    async () => {
      const tmp = temporary(path)
      await writeFile(tmp, text, { flush: true })
      return linkUnlessExists(tmp, path, linkFile).finally(() => unlink(tmp))
    },
    (e) => fileError(path, describeUnknown(e))
  )

/**
 * Writes `text` to `path` through a temporary file renamed into place (replacing it).
 * @category utils
 * @since 0.1.0
 */
export const replaceFile = (path: string, data: string | Uint8Array): TE.TaskEither<TrackError, void> =>
  TE.tryCatch(
    async () => {
      const tmp = temporary(path)
      await writeFile(tmp, data, { flush: true })
      await rename(tmp, path)
    },
    (e) => fileError(path, describeUnknown(e))
  )

/**
 * Writes a cache file in place, or leaves it: without fsync, since a torn one does not decode
 * and is rebuilt.
 * @category utils
 * @since 0.3.0
 */
export const keep = async (file: string, text: string): Promise<void> => {
  const tmp = temporary(file)
  try {
    await writeFile(tmp, text)
    await rename(tmp, file)
  } catch {
    await rm(tmp, { force: true })
  }
}
