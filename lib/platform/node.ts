/**
 * Node's capabilities: standard error, Node's file system, unref'd timers, keep-alive
 * connections with the server's TLS settings, SIGINT / SIGTERM and the facts of the running
 * program. `nodePlatform` (lib/runtime/node.ts) is made of these, the web capabilities and the
 * Node sampler of the machine.
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
import { userInfo } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { configError, describeUnknown, fileError, type TrackError } from '../Errors.js'
import type { Fetch, Files, Interrupts, Logger, SourceInfo, Timers, TlsTarget, Transport } from './Platform.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/**
 * The default `logger` of `run`: warnings and notes go to standard error.
 * @category instances
 * @since 0.1.0
 */
export const stderrLogger: Logger = {
  warn: (message) => void process.stderr.write(`charmory-track: warning: ${message}\n`),
  info: (message) => void process.stderr.write(`charmory-track: ${message}\n`)
}

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
      (e) => fileError(path, describeUnknown(e))
    ),
  listFiles: (dir) =>
    TE.tryCatch(
      async () => (await walk(dir, dir)).sort(),
      (e) => fileError(dir, describeUnknown(e))
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
  (target: TlsTarget): TE.TaskEither<TrackError, Transport> =>
    pipe(
      TE.Do,
      TE.bind('ca', () => certificate(files, target.caCertPath, 'tls.caCertPath (MLFLOW_TRACKING_SERVER_CERT_PATH)')),
      TE.bind('cert', () => certificate(files, target.clientCertPath, 'tls.clientCertPath (MLFLOW_TRACKING_CLIENT_CERT_PATH)')),
      TE.map(({ ca, cert }) => {
        const agent = target.url.startsWith('https:')
          ? new HttpsAgent({
              keepAlive: true,
              rejectUnauthorized: !target.insecure,
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

/**
 * `setTimeout` and `setInterval`, unref'd so that a forgotten timer never keeps the process
 * alive.
 * @category instances
 * @since 0.2.0
 */
export const nodeTimers: Timers = {
  after: (ms, f, keepAlive = false) => {
    const handle = setTimeout(f, ms)
    if (!keepAlive) handle.unref()
    return () => clearTimeout(handle)
  },
  every: (ms, f) => {
    const handle = setInterval(f, ms)
    handle.unref()
    return () => clearInterval(handle)
  },
  // awaited: kept referenced, so that Node does not exit before the wait is over
  sleep: (ms) => new Promise<void>((ok) => void setTimeout(ok, ms))
}
