// The server comparison of issue 12: on each server configuration (SQLite with 1 and with 4
// workers, PostgreSQL with 4 workers, two PostgreSQL replicas behind one address), side by side
// in one run: the ceiling, this library, the npm `mlflow` client's hand-batched logBatch and
// Python's MlflowClient.log_batch, each streaming the same points into one run; then the
// aggregate rate of 1, 4 and 16 concurrent writer processes of this library.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeServerDir, startMlflowServer, type MlflowServer } from '../spec/support/mlflow-server.js'
import { startPostgres, type Postgres } from '../spec/support/postgres.js'
import { ceilingIngest, libraryIngest, type Timed } from './ingest.js'
import { npmMlflowIngest } from './peers.js'
import { balancer, type Balancer } from './support/balancer.js'
import { childEnv, nodeTs, runJson } from './support/child.js'
import { countPoints, experimentId, rest, runStatus, type Rest } from './support/rest.js'
import { figure, num, ratio, show, table, type Figure } from './support/stats.js'
import { KEYS, perKey } from './support/workload.js'

export type ConfigName = 'sqlite-1' | 'sqlite-4' | 'pg-4' | 'pg-replicas'
export const CONFIGS: ReadonlyArray<ConfigName> = ['sqlite-1', 'sqlite-4', 'pg-4', 'pg-replicas']

const LABELS: Record<ConfigName, string> = {
  'sqlite-1': 'SQLite, 1 worker',
  'sqlite-4': 'SQLite, 4 workers',
  'pg-4': 'PostgreSQL, 4 workers',
  'pg-replicas': 'PostgreSQL, 2 replicas × 2 workers behind one address'
}

export interface TeamSettings {
  readonly configs: ReadonlyArray<ConfigName>
  readonly reps: number
  /** Points of each client row. */
  readonly points: number
  readonly sweepPoints: number
  readonly concurrencies: ReadonlyArray<number>
  /** Concurrent writer processes of the aggregate rows. */
  readonly writers: ReadonlyArray<number>
  /** Points all the writers of one aggregate row send together. */
  readonly writerPoints: number
}

export type ClientRow = 'ceiling' | 'library' | 'npm' | 'python'
const CLIENTS: ReadonlyArray<ClientRow> = ['ceiling', 'library', 'npm', 'python']
const CLIENT_LABELS: Record<ClientRow, string> = {
  ceiling: 'ceiling: prepared log-batch bodies',
  library: 'charmory-track: logMetric per point',
  npm: 'npm mlflow 2.0.7: Runs.logBatch chunks of 1,000',
  python: 'Python MlflowClient.log_batch, chunks of 1,000'
}

export interface ConfigResult {
  readonly config: ConfigName
  readonly best: number
  readonly rows: ReadonlyMap<ClientRow, { readonly rate: Figure | undefined; readonly error: string | undefined }>
  readonly writers: ReadonlyArray<{ readonly writers: number; readonly rate: number | undefined; readonly error?: string }>
}

interface Deployment {
  readonly url: string
  readonly describe: string
  readonly stop: () => Promise<void>
}

const tmpfs = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()

/** Starts a configuration's servers (and database), on tmpfs where there is one. */
const deploy = async (config: ConfigName): Promise<Deployment> => {
  const servers: Array<MlflowServer> = []
  let postgres: Postgres | undefined
  let front: Balancer | undefined
  const artifacts = mkdtempSync(join(tmpfs, 'charmory-bench-artifacts-'))
  const stop = async (): Promise<void> => {
    await front?.close()
    await Promise.all(servers.map((s) => s.stop()))
    for (const s of servers) removeServerDir(s)
    postgres?.remove()
    rmSync(artifacts, { recursive: true, force: true })
  }
  try {
    const dir = () => mkdtempSync(join(tmpfs, 'charmory-bench-'))
    if (config === 'sqlite-1' || config === 'sqlite-4') {
      servers.push(await startMlflowServer({ workers: config === 'sqlite-1' ? 1 : 4, dir: dir(), artifactsDestination: artifacts }))
      return { url: servers[0]!.url, describe: `SQLite on tmpfs, --workers ${config === 'sqlite-1' ? 1 : 4}`, stop }
    }
    // fsync on, as a deployment has it; the data folder on tmpfs, as the SQLite rows' store
    postgres = await startPostgres({ parent: tmpfs, durable: true })
    const options = { backendStoreUri: postgres.uri, artifactsDestination: artifacts }
    if (config === 'pg-4') {
      servers.push(await startMlflowServer({ ...options, workers: 4, dir: dir() }))
      return { url: servers[0]!.url, describe: 'PostgreSQL 15 on tmpfs, --workers 4', stop }
    }
    servers.push(await startMlflowServer({ ...options, workers: 2, dir: dir() }))
    servers.push(await startMlflowServer({ ...options, workers: 2, dir: dir() }))
    front = await balancer(servers)
    return { url: front.url, describe: 'PostgreSQL 15 on tmpfs, 2 replicas --workers 2, a round-robin TCP balancer in front', stop }
  } catch (e) {
    await stop()
    throw e
  }
}

const python = async (pythonPath: string, url: string, experiment: string, n: number): Promise<Timed> => {
  const a = await runJson<{ seconds: number; cpu_seconds: number; run_id: string }>(
    pythonPath,
    ['bench/python/clients.py', url, experiment, 'log_batch', String(n)],
    { timeoutMs: 15 * 60_000 }
  )
  return { seconds: a.seconds, runId: a.run_id, cpuMicros: a.cpu_seconds * 1e6 }
}

const verify = async (http: Rest, t: Timed, n: number): Promise<void> => {
  const got = await countPoints(http, t.runId, KEYS[0] as string)
  if (got !== perKey(n)) throw new Error(`run ${t.runId} holds ${got} points of ${KEYS[0]}, expected ${perKey(n)}`)
  if ((await runStatus(http, t.runId)) !== 'FINISHED') throw new Error(`run ${t.runId} is not FINISHED`)
}

/** `count` writer processes sending `total` points between them, started at once. */
const writersRate = async (url: string, count: number, total: number): Promise<number> => {
  const each = Math.floor(total / count)
  const children = Array.from({ length: count }, (_, w) => {
    const [cmd, args] = nodeTs('bench/children/writer.ts', [url, 'bench-writers', String(each), String(w)])
    const child = spawn(cmd, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)))
    const ready = new Promise<void>((ok) =>
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (out.includes('ready\n')) ok()
      })
    )
    const done = new Promise<{ start: number; end: number }>((ok, fail) =>
      child.once('close', (code) => {
        const last = out.trim().split('\n').pop() ?? ''
        if (code === 0 && last.startsWith('{')) ok(JSON.parse(last) as { start: number; end: number })
        else fail(new Error(`writer ${w} exited with ${code}: ${err.replace(/\s+/g, " ").slice(-600)}`))
      })
    )
    return { child, ready, done }
  })
  try {
    await Promise.all(children.map((c) => c.ready))
    for (const c of children) c.child.stdin.end('go\n')
    const times = await Promise.all(children.map((c) => c.done))
    const seconds = (Math.max(...times.map((t) => t.end)) - Math.min(...times.map((t) => t.start))) / 1000
    return (each * count) / seconds
  } finally {
    for (const c of children) c.child.kill('SIGKILL')
  }
}

export const teamConfig = async (
  s: TeamSettings,
  config: ConfigName,
  pythonPath: string,
  log: (line: string) => void
): Promise<ConfigResult> => {
  log(`\n### ${LABELS[config]}\n`)
  const deployment = await deploy(config)
  log(`  server: ${deployment.describe} (${deployment.url})`)
  const http = rest(deployment.url)
  try {
    const experiment = await experimentId(http, 'bench-team')
    const sweep: Array<{ concurrency: number; rate: number }> = []
    for (const concurrency of s.concurrencies) {
      const t = await ceilingIngest(http, experiment, s.sweepPoints, concurrency)
      sweep.push({ concurrency, rate: s.sweepPoints / t.seconds })
      log(`  ceiling sweep: ${concurrency} in flight: ${num(s.sweepPoints / t.seconds)} points/s`)
    }
    const best = sweep.reduce((a, b) => (b.rate > a.rate ? b : a)).concurrency
    const warnings: Array<string> = []
    const runs: Record<ClientRow, () => Promise<Timed>> = {
      ceiling: () => ceilingIngest(http, experiment, s.points, best),
      library: () => libraryIngest(deployment.url, 'bench-team', s.points, warnings),
      npm: () => npmMlflowIngest(deployment.url, experiment, s.points),
      python: () => python(pythonPath, deployment.url, 'bench-team', s.points)
    }
    const samples = new Map(CLIENTS.map((c) => [c, { rates: [] as Array<number>, error: undefined as string | undefined }]))
    for (let rep = 0; rep < s.reps; rep++) {
      for (let k = 0; k < CLIENTS.length; k++) {
        const name = CLIENTS[(k + rep) % CLIENTS.length] as ClientRow
        const x = samples.get(name)!
        if (x.error !== undefined) continue
        try {
          const t = await runs[name]()
          if (rep === 0) await verify(http, t, s.points)
          x.rates.push(s.points / t.seconds)
          log(`  ${CLIENT_LABELS[name]}: ${num(s.points / t.seconds)} points/s`)
        } catch (e) {
          x.error = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)
          log(`  ${CLIENT_LABELS[name]}: FAILED: ${x.error}`)
        }
      }
    }
    if (warnings.length > 0) log(`  the library warned ${warnings.length} times, first: ${warnings[0]}`)
    const writers: Array<ConfigResult['writers'][number]> = []
    for (const count of s.writers) {
      try {
        const rate = await writersRate(deployment.url, count, s.writerPoints)
        writers.push({ writers: count, rate })
        log(`  ${count} writer processes: ${num(rate)} points/s in all`)
      } catch (e) {
        const error = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)
        writers.push({ writers: count, rate: undefined, error })
        log(`  ${count} writer processes: FAILED: ${error}`)
      }
    }
    const rows = new Map(
      [...samples].map(([name, x]) => [name, { rate: x.rates.length === 0 ? undefined : figure(x.rates), error: x.error }] as const)
    )
    const result = { config, best, rows, writers }
    log(`\n${teamTable([result])}\n`)
    return result
  } finally {
    http.close()
    await deployment.stop()
  }
}

const bestPeer = (r: ConfigResult): Figure | undefined => {
  const peers = [r.rows.get('npm')?.rate, r.rows.get('python')?.rate].filter((f): f is Figure => f !== undefined)
  return peers.length === 0 ? undefined : peers.reduce((a, b) => (b.median > a.median ? b : a))
}

export const teamTable = (results: ReadonlyArray<ConfigResult>): string => {
  const clients = table(
    ['server', 'row', 'points/s: median [min–max]', '÷ ceiling', '÷ best peer'],
    results.flatMap((r) =>
      CLIENTS.map((c) => {
        const row = r.rows.get(c)
        const label = c === 'ceiling' ? `${CLIENT_LABELS.ceiling}, ${r.best} in flight` : CLIENT_LABELS[c]
        if (row?.rate === undefined) return [LABELS[r.config], label, `failed: ${row?.error ?? '?'}`, '', '']
        return [LABELS[r.config], label, show(row.rate), ratio(row.rate, r.rows.get('ceiling')?.rate), ratio(row.rate, bestPeer(r))]
      })
    )
  )
  const counts = [...new Set(results.flatMap((r) => r.writers.map((w) => w.writers)))]
  const writers = table(
    ['server', ...counts.map((n) => `${n} writer${n === 1 ? '' : 's'}, points/s in all`), `${counts.at(-1) ?? ''} ÷ ${counts[0] ?? ''}`],
    results.map((r) => {
      const rate = (n: number) => r.writers.find((w) => w.writers === n)?.rate
      const first = rate(counts[0] ?? 1)
      const last = rate(counts.at(-1) ?? 1)
      return [
        LABELS[r.config],
        ...counts.map((n) => (rate(n) === undefined ? 'failed' : num(rate(n) as number))),
        first === undefined || last === undefined ? '–' : `${(last / first).toFixed(2)}x`
      ]
    })
  )
  return `${clients}\n\n${writers}`
}

export const teamGoals = (results: ReadonlyArray<ConfigResult>): ReadonlyArray<readonly [string, string, boolean | undefined]> =>
  results.flatMap((r) => {
    const lib = r.rows.get('library')?.rate
    const ceiling = r.rows.get('ceiling')?.rate
    const peer = bestPeer(r)
    const toPeer = lib === undefined || peer === undefined ? undefined : lib.median / peer.median
    const toCeiling = lib === undefined || ceiling === undefined ? undefined : lib.median / ceiling.median
    return [
      [`${LABELS[r.config]}: ingest >= 1.0x the best peer`, toPeer === undefined ? 'not measured' : `${toPeer.toFixed(2)}x`, toPeer === undefined ? undefined : toPeer >= 1],
      [`${LABELS[r.config]}: ingest >= 0.97x the ceiling`, toCeiling === undefined ? 'not measured' : `${toCeiling.toFixed(2)}x`, toCeiling === undefined ? undefined : toCeiling >= 0.97]
    ] as const
  })
