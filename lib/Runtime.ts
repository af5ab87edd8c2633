/**
 * Running a pipeline: `run` supplies Node's clock, logger, file system and program facts
 * wherever the caller gave none, and hands the pipeline an empty context.
 *
 * `run` also builds the sink the pipeline writes to (since 0.2.0): an `mlflowSink` gets a
 * local journal (`withLocalJournal`) unless its `journal` option or
 * `CHARMORY_TRACK_FALLBACK=off` says otherwise, and every run it opens is registered in
 * `env.openRuns` until it ends. While `run` runs, SIGINT and SIGTERM end the open runs
 * `KILLED` (what was logged delivered first, within `graceMs`) and exit with 130 / 143; a
 * second signal exits at once. `{ signals: false }` leaves the signals to the program, which
 * can call `endOpenRuns`.
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
import { describe, fileError, TrackingFailure, taskFailed, type TrackError } from './Errors.js'
import { openRuns, type EndFailure } from './OpenRuns.js'
import type { RunStatus, Sink } from './Sink.js'
import { withLocalJournal, type JournalSetting } from './sinks/fallback.js'
import { localSink } from './local/LocalSink.js'
import { nodeSystemMetrics } from './system/nodeSystemMetrics.js'
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
export const makeEnv = (input: EnvInput): Env => {
  const { signals: _signals, graceMs: _graceMs, ...given } = input
  return {
    clock: systemClock,
    logger: stderrLogger,
    files: nodeFiles,
    source: nodeSource,
    systemMetrics: nodeSystemMetrics(),
    openRuns: openRuns(),
    ...given
  }
}

// -------------------------------------------------------------------------------------
// the sink a run writes to
// -------------------------------------------------------------------------------------

/** The `journal` setting of a sink that has one (an `mlflowSink`), or undefined. */
const journalOf = (sink: Sink): JournalSetting | undefined => {
  if (!('journal' in sink)) return undefined
  const setting = (sink as { readonly journal?: JournalSetting }).journal
  if (setting !== undefined) return setting
  return (process.env['CHARMORY_TRACK_FALLBACK'] ?? '').trim().toLowerCase() !== 'off'
}

/** `env.sink` journaled when it asks to be, registering its runs in `env.openRuns`. */
const buildSink = (env: Env): Sink => {
  const journal = journalOf(env.sink)
  const sink =
    journal === undefined || journal === false
      ? env.sink
      : withLocalJournal(env.sink, localSink(journal === true ? {} : { dir: journal.dir }), { logger: env.logger })
  return env.openRuns.track(sink)
}

// -------------------------------------------------------------------------------------
// signals
// -------------------------------------------------------------------------------------

interface Running {
  readonly env: Env
  readonly graceMs: number
}

/** Every `run` in progress; those handling signals. */
const registries = new Set<Running>()
const interruptible = new Set<Running>()
let stopping = false

/** The shell's status for a process ended by the signal: 128 + its number. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const

type Handled = keyof typeof EXIT_CODES

const report = (logger: Logger, failures: ReadonlyArray<EndFailure>): void => {
  for (const f of failures) logger.warn(`run ${f.runId} could not be ended: ${describe(f.error)}`)
}

let deadline: NodeJS.Timeout | undefined
/** Settles when a shutdown ends without the process exiting (process.exit stubbed, in specs). */
let shutdown: { readonly done: Promise<void>; readonly settle: () => void } | undefined

const SIGNALS: ReadonlyArray<Handled> = ['SIGINT', 'SIGTERM']

/** Exits; were the exit stubbed (in a spec), the process is as if no signal had come. */
const exit = (code: number): void => {
  clearTimeout(deadline)
  stopping = false
  shutdown?.settle()
  if (interruptible.size === 0) for (const s of SIGNALS) process.off(s, onSignal)
  process.exit(code)
}

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal as Handled]
  if (stopping) return exit(code)
  stopping = true
  let settle!: () => void
  const done = new Promise<void>((ok) => (settle = ok))
  shutdown = { done, settle }
  const runs = [...interruptible]
  for (const r of runs) {
    const open = r.env.openRuns.size()
    if (open > 0) r.env.logger.warn(`${signal}: ending the open runs KILLED (${open}); ${signal} again exits at once`)
  }
  const graceMs = Math.max(...runs.map((r) => r.graceMs))
  deadline = setTimeout(() => {
    for (const r of runs) r.env.logger.warn(`the open runs were not ended within ${graceMs} ms; exiting`)
    exit(code)
  }, graceMs)
  void endOpenRuns('KILLED').then(() => stopping && exit(code))
}

const enter = (running: Running): void => {
  if (interruptible.size === 0) for (const s of SIGNALS) process.on(s, onSignal)
  interruptible.add(running)
}

const leave = (running: Running): void => {
  interruptible.delete(running)
  if (interruptible.size === 0 && !stopping) for (const s of SIGNALS) process.off(s, onSignal)
}

/**
 * Ends every run that a `run` in progress in this process has open, with `status` (`KILLED`
 * by default) and the clock's time, delivering what was logged first, and flushes reopened
 * runs; resolves once they ended (a run that could not be ended is reported to the logger).
 * For programs that handle SIGINT / SIGTERM themselves (`run(..., { signals: false })`).
 *
 * @example
 * import { endOpenRuns } from 'charmory-track'
 *
 * process.once('SIGINT', () => void endOpenRuns().then(() => process.exit(130)))
 *
 * @category interpreters
 * @since 0.2.0
 */
export const endOpenRuns = async (status: RunStatus = 'KILLED'): Promise<void> => {
  await Promise.all([...registries].map(async (r) => report(r.env.logger, await r.env.openRuns.endAll(status, r.env.clock.now()))))
}

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
  const full = makeEnv(env)
  const running: Running = { env: full, graceMs: env.graceMs ?? 5000 }
  registries.add(running)
  if (env.signals !== false) enter(running)
  let result: E.Either<TrackError, A>
  try {
    result = (await pipeline(context, { ...full, sink: buildSink(full) })).result
  } catch (e) {
    result = E.left(taskFailed(e))
  }
  registries.delete(running)
  leave(running)
  // the process is on its way out: the program does not go on meanwhile
  if (stopping) await shutdown?.done
  return result
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
