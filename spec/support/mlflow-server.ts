// Starts and stops real MLflow tracking servers for the integration specs.
//
// The pinned MLflow is provisioned into the project's .venv by scripts/mlflow-venv.sh (reused
// when present). Each server listens on 127.0.0.1 on a free port, with its own temporary
// SQLite store and artifact folder (or the database and artifact folder it is given: several
// replicas of one server share both), and is stopped with its whole process group (uvicorn
// and gunicorn fork workers) when the spec ends, also when it fails, the process exits or
// is killed (a watchdog, spec/support/watchdog.ts).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { sharedServer, storeTemplate } from './shared-mlflow.js'
import { watchdog } from './watchdog.js'

export interface BasicAuth {
  readonly username: string
  readonly password: string
}

export interface ServerOptions {
  /** Serve the basic-auth app with this admin. */
  readonly auth?: BasicAuth
  /** Reuse a store folder (to restart a server over the same data). */
  readonly dir?: string
  readonly port?: number
  /** Worker processes; 1 unless given (MLflow's own default is 4). */
  readonly workers?: number
  /** A database to serve (`postgresql://...`) instead of a SQLite file in the server's folder. */
  readonly backendStoreUri?: string
  /** Where artifacts go (shared by the replicas of one server); `<dir>/artifacts` by default. */
  readonly artifactsDestination?: string
  /**
   * Web origins allowed to call the server from a browser (`--cors-allowed-origins`). MLflow
   * always allows loopback origins (`http://localhost:*`, `http://127.0.0.1:*`); any other
   * page origin must be listed, or its preflights fail and its writes are refused with 403.
   */
  readonly corsAllowedOrigins?: ReadonlyArray<string>
}

export interface MlflowServer {
  readonly url: string
  readonly port: number
  readonly dir: string
  readonly stop: () => Promise<void>
  /** SIGKILL to the server and its workers at once, as a crash would: nothing is shut down cleanly. */
  readonly kill?: () => Promise<void>
}

const root = resolve(new URL('../..', import.meta.url).pathname)
let executable: string | undefined | null = null

/** The pinned `mlflow` executable, provisioning it when missing; undefined without Python. */
export const mlflowExecutable = (): string | undefined => {
  if (executable !== null) return executable
  try {
    executable = execFileSync('bash', [join(root, 'scripts/mlflow-venv.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit']
    }).trim()
  } catch {
    executable = undefined
  }
  return executable
}

export const freePort = (): Promise<number> =>
  new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      s.close(() => ok(port))
    })
  })

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL')
})

const killGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

const healthy = async (url: string): Promise<boolean> => {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
    return r.ok
  } catch {
    return false
  }
}

/** Starts a server and waits for `/health`; rejects with its log if it does not come up. */
export const startMlflowServer = async (options: ServerOptions = {}): Promise<MlflowServer> => {
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) throw new Error('MLflow is not available: install Python 3 and run scripts/mlflow-venv.sh')
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'charmory-mlflow-'))
  // a new SQLite store starts as a copy of the tap run's migrated one, when there is a run
  const template = storeTemplate()
  if (options.backendStoreUri === undefined && template !== undefined && !existsSync(join(dir, 'mlflow.db'))) {
    copyFileSync(template, join(dir, 'mlflow.db'))
  }
  const port = options.port ?? (await freePort())
  // The job runner serves GenAI jobs, not tracking: leaving it off saves seven processes.
  const env: NodeJS.ProcessEnv = { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' }
  delete env['NODE_V8_COVERAGE']
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--backend-store-uri',
    options.backendStoreUri ?? `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination',
    options.artifactsDestination ?? join(dir, 'artifacts'),
    '--workers',
    String(options.workers ?? 1)
  ]
  if (options.corsAllowedOrigins !== undefined) args.push('--cors-allowed-origins', options.corsAllowedOrigins.join(','))
  if (options.auth !== undefined) {
    const ini = join(dir, 'basic_auth.ini')
    writeFileSync(
      ini,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${join(dir, 'basic_auth.db')}`,
        `admin_username = ${options.auth.username}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        ''
      ].join('\n')
    )
    Object.assign(env, {
      MLFLOW_AUTH_CONFIG_PATH: ini,
      MLFLOW_AUTH_ADMIN_USERNAME: options.auth.username,
      MLFLOW_AUTH_ADMIN_PASSWORD: options.auth.password,
      MLFLOW_FLASK_SERVER_SECRET_KEY: 'charmory-track-test-secret'
    })
    args.push('--app-name', 'basic-auth')
  }
  const logFile = join(dir, `server-${port}.log`)
  const { openSync } = await import('node:fs')
  const out = openSync(logFile, 'a')
  const child = spawn(mlflow, args, { env, detached: true, stdio: ['ignore', out, out] })
  live.add(child)
  const dog = watchdog(`kill -KILL -${child.pid} 2>/dev/null`)
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()))
  const deadline = Date.now() + 120_000
  let exitedEarly = false
  void exited.then(() => (exitedEarly = true))
  while (!(await healthy(url))) {
    if (exitedEarly || Date.now() > deadline) {
      killGroup(child, 'SIGKILL')
      live.delete(child)
      dog.cancel()
      const { readFileSync } = await import('node:fs')
      throw new Error(`mlflow server did not become healthy:\n${readFileSync(logFile, 'utf8').slice(-4000)}`)
    }
    await new Promise((ok) => setTimeout(ok, 250))
  }
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      killGroup(child, 'SIGTERM')
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
      // workers may outlive the main process by a moment
      killGroup(child, 'SIGKILL')
      live.delete(child)
      dog.cancel()
    })()
    return stopped
  }
  const kill = async (): Promise<void> => {
    killGroup(child, 'SIGKILL')
    await exited
    return stop()
  }
  return { url, port, dir, stop, kill }
}

/** Removes a server's folder once it is stopped. */
export const removeServerDir = (server: MlflowServer): void => rmSync(server.dir, { recursive: true, force: true })

interface TapLike {
  readonly teardown: (f: () => unknown) => void
  readonly fail: (message: string) => void
  readonly comment: (message: string) => void
}

/**
 * A server for one spec file. Without options, under tap, it is the run's shared server
 * (spec/support/shared-mlflow.ts): the spec keeps to experiments of its own and leaves the
 * server running. With options (auth, a store folder to reuse, a port, workers), or outside
 * tap, it is a server of its own, stopped (and its folder removed) in the spec's teardown.
 * Outside CI, without Python, it returns undefined after a loud comment, and the caller skips;
 * in CI that is a failure.
 */
export const serverFor = async (t: TapLike, options: ServerOptions = {}): Promise<MlflowServer | undefined> => {
  if (mlflowExecutable() === undefined) {
    const message =
      'MLflow integration tests need Python 3: run `bash scripts/mlflow-venv.sh` (installs mlflow==3.18.0 into .venv)'
    if (process.env['CI'] === 'true') t.fail(message)
    else t.comment(`SKIPPING: ${message}`)
    return undefined
  }
  if (Object.keys(options).length === 0) {
    const shared = await sharedServer()
    if (shared !== undefined) return { ...shared, stop: async () => undefined }
  }
  const server = await startMlflowServer(options)
  t.teardown(async () => {
    await server.stop()
    if (options.dir === undefined) removeServerDir(server)
  })
  return server
}
