/**
 * Running a pipeline: `run` supplies Node's clock, logger, file system and program facts
 * wherever the caller gave none, and hands the pipeline an empty context.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { readFileSync, statSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import * as C from './Context.js'
import type { Clock, Env, EnvInput, Files, Logger, SourceInfo } from './Env.js'
import { fileError, TrackingFailure, taskFailed, type TrackError } from './Errors.js'
import type { Track } from './Track.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The system clock (`Date.now`): the default `clock` of `run`.
 * @category instances
 * @since 0.1.0
 */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * The default `logger` of `run`: warnings and notes go to standard error.
 * @category instances
 * @since 0.1.0
 */
export const stderrLogger: Logger = {
  warn: (message) => void process.stderr.write(`charmory-track: warning: ${message}\n`),
  info: (message) => void process.stderr.write(`charmory-track: ${message}\n`)
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const walk = async (root: string, dir: string): Promise<Array<string>> => {
  const found: Array<string> = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...(await walk(root, full)))
    else if (entry.isFile()) found.push(relative(root, full).split(sep).join('/'))
  }
  return found
}

/**
 * Reads artifact files with Node's file system: the default `files` of `run`.
 * @category instances
 * @since 0.1.0
 */
export const nodeFiles: Files = {
  readFile: (path) =>
    TE.tryCatch(
      async () => {
        const b = await readFile(path)
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
      },
      (e) => fileError(path, reason(e))
    ),
  listFiles: (dir) =>
    TE.tryCatch(
      async () => (await walk(dir, dir)).sort(),
      (e) => fileError(dir, reason(e))
    )
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/**
 * The commit checked out in the git work tree that holds `start`, read from `.git` directly.
 * @category utils
 * @since 0.1.0
 */
export const gitCommitAt = (start: string): O.Option<string> => {
  let dir = resolve(start)
  for (;;) {
    const dotGit = join(dir, '.git')
    let gitDir: string | undefined
    try {
      gitDir = statSync(dotGit).isDirectory()
        ? dotGit
        : resolve(dir, (readText(dotGit) ?? '').replace(/^gitdir:\s*/, ''))
    } catch {
      gitDir = undefined
    }
    if (gitDir !== undefined) {
      const head = readText(join(gitDir, 'HEAD')) ?? ''
      const ref = /^ref:\s*(.+)$/.exec(head)?.[1]
      if (ref === undefined) return /^[0-9a-f]{40}$/.test(head) ? O.some(head) : O.none
      const common = readText(join(gitDir, 'commondir'))
      const base = common === undefined ? gitDir : resolve(gitDir, common)
      const loose = readText(join(base, ref)) ?? readText(join(gitDir, ref))
      if (loose !== undefined) return O.some(loose)
      const packed = (readText(join(base, 'packed-refs')) ?? '').split('\n').find((l) => l.endsWith(` ${ref}`))
      return packed === undefined ? O.none : O.some(packed.slice(0, 40))
    }
    const parent = dirname(dir)
    if (parent === dir) return O.none
    dir = parent
  }
}

let cachedSource: SourceInfo | undefined

/**
 * The user, the entry script and its git commit, read once per process.
 * @category instances
 * @since 0.1.0
 */
export const nodeSource = (): SourceInfo => {
  if (cachedSource === undefined) {
    let user: string
    try {
      user = userInfo().username
    } catch {
      user = process.env['USER'] ?? 'unknown'
    }
    const sourceName = process.argv[1] === undefined ? 'node' : resolve(process.argv[1])
    cachedSource = { user, sourceName, gitCommit: gitCommitAt(dirname(sourceName)) }
  }
  return cachedSource
}

// -------------------------------------------------------------------------------------
// interpreters
// -------------------------------------------------------------------------------------

/**
 * The full environment: what was given, Node's defaults for the rest.
 * @category interpreters
 * @since 0.1.0
 */
export const makeEnv = (input: EnvInput): Env => ({
  clock: systemClock,
  logger: stderrLogger,
  files: nodeFiles,
  source: nodeSource,
  ...input
})

/**
 * Runs a pipeline, from an empty context unless one is given.
 *
 * @example
 * import { run, evaluate, trackParam, memorySink, invalidKey, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('lr', 0.1),
 *   Track.flatMap(() => evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })))
 * )
 * const sink = memorySink()
 * const result = await run(program, { sink })
 * assert.ok(E.isRight(result))
 * assert.strictEqual(sink.snapshot().runs[0]?.params['lr'], '0.1')
 *
 * // a failure is a Left, never a rejected promise
 * const failed = await run(Track.fail(invalidKey('a//b', 'contains "//"')), { sink })
 * assert.deepStrictEqual(failed, E.left(invalidKey('a//b', 'contains "//"')))
 *
 * @category interpreters
 * @since 0.1.0
 */
export const run = async <A>(
  pipeline: Track<A>,
  env: EnvInput,
  context: C.Context = C.empty()
): Promise<E.Either<TrackError, A>> => {
  try {
    return (await pipeline(context, makeEnv(env))).result
  } catch (e) {
    return E.left(taskFailed(e))
  }
}

/**
 * `run`, rejecting with a `TrackingFailure` instead of returning a `Left`.
 * @category interpreters
 * @since 0.1.0
 */
export const runPromise = async <A>(pipeline: Track<A>, env: EnvInput, context?: C.Context): Promise<A> => {
  const result = await run(pipeline, env, context)
  if (E.isLeft(result)) throw new TrackingFailure(result.left)
  return result.right
}
