// A real PostgreSQL for the team specs and the bench: `initdb` into a temporary folder,
// `pg_ctl` on a free loopback port, one database for MLflow; stopped and deleted afterwards,
// also when the test process dies (spec/support/watchdog.ts).
//
// The binaries come from Debian's `postgresql` package (`.ci/run` installs it when missing):
// `pg_config --bindir`, `initdb` on PATH, or /usr/lib/postgresql/<version>/bin. PostgreSQL
// refuses to run as root, so as root every command runs as the `postgres` user the package
// creates (`runuser -u postgres --`), in a folder that user owns.
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './mlflow-server.js'
import { watchdog } from './watchdog.js'

export interface PostgresOptions {
  /** Where the temporary folder goes (a tmpfs such as /dev/shm for the bench); the system's temp folder by default. */
  readonly parent?: string
  /** `fsync` and synchronous commits on, as a deployment has them; off unless asked (the specs test behaviour, not disks). */
  readonly durable?: boolean
}

export interface Postgres {
  /** `postgresql+psycopg2://charmory@127.0.0.1:<port>/mlflow` (SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3): trust authentication on loopback, no password. */
  readonly uri: string
  readonly port: number
  readonly dir: string
  /** `pg_ctl stop -m fast`: clients are disconnected, the data stays. */
  readonly stop: () => void
  /** `pg_ctl start` on the same port and data. */
  readonly start: () => void
  /** Stops the server (if it runs) and deletes its folder. */
  readonly remove: () => void
}

const newestFirst = (a: string, b: string): number => Number(b) - Number(a)

/** The folder holding `initdb` and `pg_ctl`, or undefined when PostgreSQL is not installed. */
export const postgresBinaries = (): string | undefined => {
  const candidates: Array<string> = []
  const bindir = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' })
  if (bindir.status === 0) candidates.push(bindir.stdout.trim())
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  if (which.status === 0) candidates.push(join(which.stdout.trim(), '..'))
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort(newestFirst)) candidates.push(join(debian, version, 'bin'))
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')))
}

export const postgresMissing =
  'the PostgreSQL specs need PostgreSQL (initdb, pg_ctl): on Debian or Ubuntu `apt-get install -y postgresql` (`.ci/run` does it)'

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0

/** Runs a PostgreSQL program, as the `postgres` user when this process is root. */
const pg = (bin: string, program: string, args: ReadonlyArray<string>, cwd: string): string => {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args]
  try {
    return execFileSync(command, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string }
    throw new Error(`${program} ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}${err.message}`)
  }
}

const ownedByPostgres = (dir: string): void => {
  if (!asRoot) return
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  chownSync(dir, uid, gid)
}

/** Starts a fresh PostgreSQL with a database `mlflow`; throws with its log when it cannot. */
export const startPostgres = async (options: PostgresOptions = {}): Promise<Postgres> => {
  const bin = postgresBinaries()
  if (bin === undefined) throw new Error(postgresMissing)
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), 'charmory-pg-'))
  // a server that outlives this process is stopped at once (SIGQUIT) and its folder removed
  const dog = watchdog(`kill -QUIT "$(head -n 1 '${dir}/data/postmaster.pid' 2>/dev/null)" 2>/dev/null; sleep 2; rm -rf '${dir}'`)
  const remove = (): void => {
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
      try {
        pg(bin, 'pg_ctl', ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w'], dir)
      } catch {
        // already stopping
      }
    }
    rmSync(dir, { recursive: true, force: true })
    dog.cancel()
  }
  try {
    ownedByPostgres(dir)
    const port = await freePort()
    pg(bin, 'initdb', ['-D', join(dir, 'data'), '-U', 'charmory', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], dir)
    const settings = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${dir}'`,
      '-c max_connections=200',
      ...(options.durable === true ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'])
    ].join(' ')
    const start = (): void => void pg(bin, 'pg_ctl', ['start', '-D', join(dir, 'data'), '-w', '-t', '60', '-l', join(dir, 'postgres.log'), '-o', settings], dir)
    const stop = (): void => void pg(bin, 'pg_ctl', ['stop', '-D', join(dir, 'data'), '-m', 'fast', '-w', '-t', '60'], dir)
    start()
    pg(bin, 'createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'charmory', 'mlflow'], dir)
    return { uri: `postgresql+psycopg2://charmory@127.0.0.1:${port}/mlflow`, port, dir, start, stop, remove }
  } catch (e) {
    const log = existsSync(join(dir, 'postgres.log')) ? readFileSync(join(dir, 'postgres.log'), 'utf8').slice(-3000) : ''
    remove()
    throw new Error(`PostgreSQL did not start: ${e instanceof Error ? e.message : String(e)}\n${log}`)
  }
}
