// One MLflow server shared by the spec files of a tap run, for the specs that need no server
// of their own (each test keeps to its own experiments). tap's `before` script opens a
// session: it starts a supervisor process, which starts the server and stops it when tap's
// `after` script asks, or when the tap process that owns the session is gone (Ctrl+C, a
// crash), so no server outlives its run. A spec run outside tap finds no session and starts
// a server of its own.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(new URL('../..', import.meta.url).pathname)
export const sessionDir = join(root, '.tap', 'charmory-mlflow')
const file = (name: string): string => join(sessionDir, name)

export interface SharedServer {
  readonly url: string
  readonly port: number
  readonly dir: string
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const readPid = (name: string): number | undefined => {
  const text = existsSync(file(name)) ? readFileSync(file(name), 'utf8').trim() : ''
  return /^\d+$/.test(text) ? Number(text) : undefined
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

/** Stops the session's supervisor (and so its server) and waits until it is gone. */
export const closeSession = async (): Promise<void> => {
  const supervisor = readPid('supervisor.pid')
  if (supervisor !== undefined && alive(supervisor)) {
    process.kill(supervisor, 'SIGTERM')
    for (let i = 0; i < 200 && alive(supervisor); i++) await sleep(100)
  }
  rmSync(sessionDir, { recursive: true, force: true })
}

/** Opens a session owned by `owner` (the tap process) and starts its supervisor; returns at once. */
export const openSession = async (owner: number): Promise<void> => {
  await closeSession()
  mkdirSync(sessionDir, { recursive: true })
  writeFileSync(file('owner.pid'), String(owner))
  const env: NodeJS.ProcessEnv = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  delete env['NODE_V8_COVERAGE']
  delete env['NODE_OPTIONS']
  const log = openSync(file('supervisor.log'), 'a')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'spec/support/shared-mlflow-supervisor.ts'), sessionDir, String(owner)],
    { cwd: root, env, detached: true, stdio: ['ignore', log, log] }
  )
  writeFileSync(file('supervisor.pid'), String(child.pid))
  child.unref()
}

/**
 * The store of the session's server as it was when the server first answered (MLflow's schema
 * migrated, its Default experiment), for the other servers of the run to start from instead
 * of migrating a fresh database each (2 s of CPU); undefined outside a session.
 */
export const storeTemplate = (): string | undefined => {
  const owner = readPid('owner.pid')
  return owner !== undefined && alive(owner) && existsSync(file('template.db')) ? file('template.db') : undefined
}

/** Keeps a copy of a server's store as the session's template (by the supervisor, before it publishes the server). */
export const keepTemplate = (store: string): void => {
  copyFileSync(store, `${file('template.db')}.tmp`)
  renameSync(`${file('template.db')}.tmp`, file('template.db'))
}

/** Records the session's server, or why it could not start (written by the supervisor). */
export const publish = (answer: { server: SharedServer } | { error: string }): void => {
  const name = 'server' in answer ? 'server.json' : 'error.txt'
  writeFileSync(`${file(name)}.tmp`, 'server' in answer ? JSON.stringify(answer.server) : answer.error)
  // renamed into place so that a reader never sees half a file
  renameSync(`${file(name)}.tmp`, file(name))
}

/**
 * The session's server, once it answers; undefined when no tap session is open (the caller
 * then starts a server of its own). Rejects with the supervisor's reason when it could not
 * start one.
 */
export const sharedServer = async (): Promise<SharedServer | undefined> => {
  const owner = readPid('owner.pid')
  if (owner === undefined || !alive(owner)) return undefined
  // a fresh machine provisions MLflow first: minutes, not seconds
  for (let waited = 0; waited < 900_000; waited += 200) {
    if (existsSync(file('server.json'))) return JSON.parse(readFileSync(file('server.json'), 'utf8')) as SharedServer
    if (existsSync(file('error.txt'))) throw new Error(readFileSync(file('error.txt'), 'utf8'))
    const supervisor = readPid('supervisor.pid')
    if (supervisor === undefined || !alive(supervisor)) {
      const log = existsSync(file('supervisor.log')) ? readFileSync(file('supervisor.log'), 'utf8') : ''
      throw new Error(`the shared MLflow server's supervisor is gone:\n${log.slice(-4000)}`)
    }
    await sleep(200)
  }
  throw new Error('the shared MLflow server did not start within 15 minutes')
}

// `node --import tsx shared-mlflow.ts open|close OWNER_PID`, from tap's before and after scripts
if (process.argv[1] === new URL(import.meta.url).pathname) {
  const [verb, owner] = process.argv.slice(2)
  await (verb === 'open' ? openSession(Number(owner)) : closeSession())
}
