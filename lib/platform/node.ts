/**
 * The Node platform: the system clock, standard error, Node's file system, `process.env`, the
 * user's home folder, unref'd timers, keep-alive connections with the server's TLS settings,
 * SIGINT / SIGTERM, the local run store and system metrics. The package's `run`, `runPromise`
 * and `openSink` on Node are those of `nodePlatform`.
 *
 * @since 0.2.0
 */
import crossFetch from 'cross-fetch'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { readFileSync, statSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { homedir, userInfo } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configError, fileError, type TrackError } from '../Errors.js'
import { fallbackOver, journalOver } from '../local/Fallback.js'
import { localSink } from '../local/LocalSink.js'
import { defaultStoreDir } from '../local/Store.js'
import type { MlflowConfig } from '../mlflow/Config.js'
import type { Fetch } from '../mlflow/Http.js'
import { runIn } from '../Runtime.js'
import { nodeSystemMetrics, nodeTimers } from '../system/nodeSystemMetrics.js'
import { randomId, type Clock, type Files, type LocalStoreSupport, type Logger, type Platform, type Interrupts, type SourceInfo, type Transport } from './Platform.js'

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


/**
 * A certificate file's bytes, or a `ConfigError` naming the setting that named it.
 */
const certificate = (files: Files, path: string | undefined, setting: string): TE.TaskEither<TrackError, Uint8Array | undefined> =>
  path === undefined
    ? TE.right(undefined)
    : pipe(
        files.readFile(path),
        TE.mapLeft((e) => configError(setting, `the file ${path} cannot be read (${e._tag === 'FileError' ? e.message.replace(/:.*$/s, '') : e._tag})`))
      )

/**
 * Keep-alive connections to the server of `config`, with its TLS settings (certificate files
 * read through `files`; one that cannot be read is a `ConfigError`).
 * @category instances
 * @since 0.2.0
 */
export const nodeTransport =
  (files: Files) =>
  (config: MlflowConfig): TE.TaskEither<TrackError, Transport> =>
    pipe(
      TE.Do,
      TE.bind('ca', () => certificate(files, config.tls.caCertPath, 'tls.caCertPath (MLFLOW_TRACKING_SERVER_CERT_PATH)')),
      TE.bind('cert', () => certificate(files, config.tls.clientCertPath, 'tls.clientCertPath (MLFLOW_TRACKING_CLIENT_CERT_PATH)')),
      TE.map(({ ca, cert }) => {
        const agent = config.trackingUri.startsWith('https:')
          ? new HttpsAgent({
              keepAlive: true,
              rejectUnauthorized: !config.tls.insecure,
              ...(ca === undefined ? {} : { ca: Buffer.from(ca) }),
              ...(cert === undefined ? {} : { cert: Buffer.from(cert), key: Buffer.from(cert) })
            })
          : new HttpAgent({ keepAlive: true })
        // node-fetch (behind cross-fetch on Node) takes `agent`, which the DOM types do not know.
        const fetch: Fetch = (url, init) => crossFetch(url, { ...init, agent } as unknown as RequestInit) as unknown as ReturnType<Fetch>
        return { fetch, close: () => agent.destroy() }
      })
    )

/**
 * SIGINT and SIGTERM of this process, and `process.exit`.
 * @category instances
 * @since 0.2.0
 */
export const nodeSignals: Interrupts = {
  onInterrupt: (handler) => {
    const onInt = (): void => handler('SIGINT')
    const onTerm = (): void => handler('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    return () => {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
  },
  exit: (code) => process.exit(code)
}

/** The folder a `file:` URI or a plain path names, from `cwd`; a bad `file:` URI is undefined. */
const folderOf = (cwd: string) => (uri: string): string | undefined => {
  try {
    if (!uri.startsWith('file:')) return resolve(cwd, uri)
    return uri.startsWith('file://') ? fileURLToPath(uri) : resolve(cwd, decodeURIComponent(uri.slice('file:'.length)))
  } catch {
    return undefined
  }
}

/**
 * The local run store of a process with these variables, home and working folder.
 * @category instances
 * @since 0.2.0
 */
export const nodeLocalStore = (vars: Readonly<Record<string, string | undefined>>, home: string, cwd: string): LocalStoreSupport => ({
  defaultDir: defaultStoreDir(vars, home),
  folderOf: folderOf(cwd),
  sink: (dir) => localSink({ dir }),
  around: (remote, dir, mode, platform) =>
    pipe(
      localSink({ dir }).build(platform),
      TE.map((local) => ({
        ...(mode === 'journal' ? journalOver : fallbackOver)(remote, local, { logger: platform.logger, defaultDir: defaultStoreDir(vars, home) }),
        close: local.close
      }))
    )
})

/**
 * Node's platform: what `run` uses for every capability it is not given.
 * @category instances
 * @since 0.2.0
 */
export const nodePlatform: Platform = {
  clock: systemClock,
  logger: stderrLogger,
  files: nodeFiles,
  vars: process.env,
  get home() {
    return homedir()
  },
  ids: randomId,
  timers: nodeTimers,
  transport: nodeTransport(nodeFiles),
  interrupts: nodeSignals,
  source: nodeSource,
  systemMetrics: nodeSystemMetrics(),
  localStore: (vars, home) => nodeLocalStore(vars, home ?? homedir(), process.cwd())
}

const node = runIn(nodePlatform)

// -------------------------------------------------------------------------------------
// interpreters
// -------------------------------------------------------------------------------------

/**
 * Runs a pipeline on Node, from an empty context unless one is given. A sink description
 * (`mlflowSink`, `localSink`, `sinkFromEnv`) is built from the platform and closed when the
 * pipeline ends; a failure, including a configuration error, is a `Left`, never a rejection.
 *
 * @example
 * import { run, evaluate, trackParam, memorySink, mlflowSink, invalidKey, Track } from 'charmory-track'
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
 * // so is a sink that cannot be built
 * const unbuilt = await run(program, { sink: mlflowSink('ftp://example.org') })
 * assert.ok(E.isLeft(unbuilt) && unbuilt.left._tag === 'ConfigError')
 *
 * @category interpreters
 * @since 0.1.0
 */
export const run = node.run

/**
 * `run`, rejecting with a `TrackingFailure` instead of returning a `Left`.
 * @category interpreters
 * @since 0.1.0
 */
export const runPromise = node.runPromise

/**
 * Builds a sink description once, to share between many `run`s; close it when done.
 *
 * @example
 * import { openSink, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const opened = await openSink(localSink({ dir: mkdtempSync(join(tmpdir(), 'shared-')) }))
 * assert.ok(E.isRight(opened))
 * const sink = opened.right
 * for (const seed of [1, 2]) await run(evaluate({ experiment: 'shared', runName: `seed-${seed}` }, async () => ({ seed })), { sink })
 * const runs = await sink.query.searchRuns({ experiments: ['shared'] })()
 * assert.ok(E.isRight(runs) && runs.right.runs.length === 2)
 * await sink.close()
 *
 * @category interpreters
 * @since 0.2.0
 */
export const openSink = node.openSink
