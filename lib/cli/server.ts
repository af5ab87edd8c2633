/**
 * `charmory-track server [flags]`: the MLflow UI over this machine's runs, one command away.
 * It starts `mlflow server` (found on PATH) with a SQLite store and an artifact folder under
 * `$ARMORY_HOME`, waits until it answers `/health`, syncs the local store's unsynced runs into
 * it, prints the address to open, and stops it (with its worker processes) on Ctrl+C. A port
 * that something else already listens on is refused before anything starts: its `/health`
 * would otherwise pass for the new server's, and the runs would go to that other server.
 *
 * @since 0.1.0
 */
import type { ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describeError } from '../Errors.js'
import { armoryHome } from '../local/Store.js'
import type { EnvVars } from '../mlflow/Config.js'
import type { Fetch } from '../platform/Platform.js'
import * as Scope from '../Scope.js'
import { command } from './Command.js'
import { localStoreOf, platformOf, type CliIo } from './io.js'
import { syncTo } from './sync.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * How the server is started: the arguments after `mlflow server`, the address to reach it
 * at, and the folder that holds its default store.
 * @category model
 * @since 0.1.0
 */
export interface ServerPlan {
  readonly args: ReadonlyArray<string>
  readonly address: string
  readonly home: string
}

/**
 * Timing of the server's lifecycle.
 * @category model
 * @since 0.1.0
 */
export interface ServerTimeouts {
  /** How long the server may take to answer `/health`; 120 s. */
  readonly startMs: number
  /** How long it may take to stop after SIGTERM before it is killed; 10 s. */
  readonly stopMs: number
  /** Between two `/health` checks; 250 ms. */
  readonly pollMs: number
}

/**
 * @category constants
 * @since 0.1.0
 */
export const usage = `Usage: charmory-track server [mlflow server flags]

Starts \`mlflow server\` (found on PATH), waits until it is healthy, syncs the local store's
unsynced runs into it and prints the address to open. Ctrl+C (or SIGTERM) stops it and its
workers. Each default below applies unless a flag (as --flag value or --flag=value) or the
environment says otherwise:

  --host 127.0.0.1 --port 5000    or the host and port of an http:// MLFLOW_TRACKING_URI
  --backend-store-uri sqlite:///$ARMORY_HOME/mlflow.db
                                  or MLFLOW_TRACKING_URI when it names a database
                                  (sqlite:, postgresql:, mysql:, mssql:), or
                                  MLFLOW_BACKEND_STORE_URI
  --artifacts-destination $ARMORY_HOME/mlartifacts
                                  unless --artifacts-destination, --default-artifact-root,
                                  --no-serve-artifacts or MLFLOW_ARTIFACTS_DESTINATION
  (ARMORY_HOME defaults to ~/.armory; -h and -p are mlflow's short --host and --port)

Every other flag goes to mlflow server as given. Install MLflow with: pip install mlflow
  --help       this help
`

// -------------------------------------------------------------------------------------
// plan
// -------------------------------------------------------------------------------------

/** The value of a flag given as `--flag value`, `-f value` or `--flag=value`. */
const flagValue = (args: ReadonlyArray<string>, names: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (names.includes(arg)) return args[i + 1] ?? ''
    const long = names.find((n) => arg.startsWith(`${n}=`))
    if (long !== undefined) return arg.slice(long.length + 1)
  }
  return undefined
}

const given = (args: ReadonlyArray<string>, names: ReadonlyArray<string>): boolean => flagValue(args, names) !== undefined

const databaseUri = (uri: string): boolean => /^(sqlite|postgresql|postgres|mysql|mssql)(\+[\w-]+)?:/i.test(uri)

const httpAddress = (uri: string): URL | undefined => {
  try {
    const url = new URL(uri)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
  } catch {
    return undefined
  }
}

/**
 * The arguments for `mlflow server`: the user's, then the defaults they did not override.
 * @category constructors
 * @since 0.1.0
 */
export const serverPlan = (args: ReadonlyArray<string>, env: EnvVars, home: string): ServerPlan => {
  const root = armoryHome(env, home)
  const trackingUri = (env['MLFLOW_TRACKING_URI'] ?? '').trim()
  const server = httpAddress(trackingUri)
  const host = flagValue(args, ['--host', '-h']) ?? server?.hostname ?? '127.0.0.1'
  const port = flagValue(args, ['--port', '-p']) ?? (server?.port || '5000')
  const added: Array<string> = []
  if (!given(args, ['--host', '-h'])) added.push('--host', host)
  if (!given(args, ['--port', '-p'])) added.push('--port', port)
  if (!given(args, ['--backend-store-uri']) && !env['MLFLOW_BACKEND_STORE_URI']) {
    added.push('--backend-store-uri', databaseUri(trackingUri) ? trackingUri : `sqlite:///${join(root, 'mlflow.db')}`)
  }
  const artifactFlags = ['--artifacts-destination', '--default-artifact-root', '--no-serve-artifacts']
  if (!artifactFlags.some((f) => given(args, [f]) || args.includes(f)) && !env['MLFLOW_ARTIFACTS_DESTINATION']) {
    added.push('--artifacts-destination', join(root, 'mlartifacts'))
  }
  const reach = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host
  return {
    args: [...args, ...added],
    address: `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}`,
    home: root
  }
}

// -------------------------------------------------------------------------------------
// lifecycle
// -------------------------------------------------------------------------------------

/**
 * Signals a child's whole process group (the server and the workers it forked); a group that
 * is already gone is fine.
 * @category interpreters
 * @since 0.1.0
 */
export const killGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group has exited
  }
}

/**
 * Why nothing can listen at `address` now (`EADDRINUSE`: another server has it), or
 * `undefined` when the port is free. An address without a port is left to mlflow to refuse.
 */
const listenProblem = (address: string): Promise<string | undefined> => {
  const url = new URL(address)
  if (url.port === '') return Promise.resolve(undefined)
  return new Promise((ok) => {
    const probe = createServer()
    probe.once('error', (e: NodeJS.ErrnoException) => ok(String(e.code)))
    probe.listen({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), exclusive: true }, () =>
      probe.close(() => ok(undefined))
    )
  })
}

const healthy = async (fetch: Fetch, address: string): Promise<boolean> => {
  try {
    const answer = await fetch(`${address}/health`, { method: 'GET', headers: {}, signal: AbortSignal.timeout(2000) })
    return answer.status === 200
  } catch {
    return false
  }
}

/** How the server process ended: it exited (with a code, or a signal's null), or never started. */
interface Ending {
  readonly code: number | null
  readonly error: (Error & { code?: unknown }) | undefined
}

const endingOf = (child: ChildProcess): Promise<Ending> =>
  new Promise((ok) => {
    child.once('error', (error) => ok({ code: null, error }))
    child.once('exit', (code) => ok({ code, error: undefined }))
  })

/**
 * A database store whose Python driver mlflow cannot import: the one case where the way out is
 * not in mlflow's own traceback. SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3.
 */
const driverHint = (output: string): string =>
  /No module named 'psycopg2?'/.test(output)
    ? '; a postgresql:// store needs a PostgreSQL driver where mlflow runs: `pip install psycopg2-binary` and ' +
      'name it in the URI (`postgresql+psycopg2://...`), or `pip install "psycopg[binary]"` for a bare `postgresql://`'
    : ''

const notStarted = (ending: Ending, output: string): string =>
  ending.error === undefined
    ? `mlflow server exited with code ${ending.code} before it was ready (its output is above)${driverHint(output)}`
    : ending.error.code === 'ENOENT'
      ? 'mlflow was not found on PATH: install it with `pip install mlflow` (Python 3.10 or later) and put its bin folder on PATH'
      : `mlflow could not be started: ${ending.error.message}`

/**
 * Runs the server until a stop signal; yields the exit code.
 * @category interpreters
 * @since 0.1.0
 */
export const serve = async (argv: ReadonlyArray<string>, io: CliIo, timeouts: ServerTimeouts): Promise<number> => {
  const scope = Scope.make()
  try {
    return await serveIn(scope, argv, io, timeouts)
  } finally {
    await scope.close()
  }
}

const serveIn = async (scope: Scope.Scope, argv: ReadonlyArray<string>, io: CliIo, timeouts: ServerTimeouts): Promise<number> => {
  const plan = serverPlan(argv, io.env, io.home)
  const { clock, timers, transport } = platformOf(io)
  const { sleep } = timers
  const connection = await Scope.acquireRelease(
    scope,
    transport({ url: plan.address, insecure: false, caCertPath: undefined, clientCertPath: undefined }),
    (t) => t.close()
  )()
  if (E.isLeft(connection)) {
    io.stderr.write(`charmory-track server: ${describeError(connection.left)}\n`)
    return 1
  }
  const { fetch } = connection.right
  const taken = await listenProblem(plan.address)
  if (taken !== undefined) {
    const where = plan.address.replace(/^http:\/\//, '')
    io.stderr.write(
      `charmory-track server: cannot listen on ${where} (${taken}): another server is using it. ` +
        `Choose another port with --port, or sync into that server with \`charmory-track sync --to ${plan.address}\`\n`
    )
    return 1
  }
  mkdirSync(plan.home, { recursive: true })
  const state: { ending: Ending | undefined; stopped: boolean } = { ending: undefined, stopped: false }
  const child = io.spawn('mlflow', ['server', ...plan.args], {
    env: { ...io.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: io.env['MLFLOW_SERVER_ENABLE_JOB_EXECUTION'] ?? 'false' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const relay = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8192)
    io.stderr.write(d.toString())
  }
  child.stdout!.on('data', relay)
  child.stderr!.on('data', relay)
  const ended = endingOf(child).then((e) => (state.ending = e))
  const stopRequested = new Promise<void>((ok) => {
    const unsubscribe = io.onStop(() => {
      state.stopped = true
      ok()
    })
    void ended.then(unsubscribe)
  })
  const stop = async (): Promise<void> => {
    killGroup(child.pid!, 'SIGTERM')
    const cancel = timers.after(timeouts.stopMs, () => killGroup(child.pid!, 'SIGKILL'))
    await ended
    cancel()
    // workers may outlive the main process by a moment
    killGroup(child.pid!, 'SIGKILL')
  }

  const deadline = clock.now() + timeouts.startMs
  while (state.ending === undefined && !state.stopped && !(await healthy(fetch, plan.address))) {
    if (clock.now() > deadline) {
      io.stderr.write(`charmory-track server: mlflow server did not answer ${plan.address}/health within ${timeouts.startMs} ms\n`)
      await stop()
      return 1
    }
    await sleep(timeouts.pollMs)
  }
  if (state.ending !== undefined) {
    io.stderr.write(`charmory-track server: ${notStarted(state.ending, output)}\n`)
    return 1
  }
  if (!state.stopped) {
    await syncTo(io, localStoreOf(io), plan.address, false, 'the server address')
    io.stdout.write(`MLflow is serving at ${plan.address} (Ctrl+C stops it)\n`)
    const first = await Promise.race([stopRequested.then(() => undefined), ended])
    if (first !== undefined && !state.stopped) {
      io.stderr.write(`charmory-track server: mlflow server exited on its own (code ${first.code})\n`)
      return 1
    }
  }
  await stop()
  io.stdout.write('mlflow server stopped\n')
  return 0
}

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.1.0
 */
export const serverCommand = command({
  name: 'server',
  usage,
  flags: {},
  passThrough: true,
  run: ({ positionals }, io) => serve(positionals, io, { startMs: 120_000, stopMs: 10_000, pollMs: 250 })
})
