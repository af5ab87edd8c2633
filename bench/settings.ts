// The bench's flags and the facts of the machine it runs on.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os'
import { parseArgs } from 'node:util'
import { CONFIGS, type ConfigName, type TeamSettings } from './team.js'

export type Section = 'overhead' | 'ingest' | 'memory' | 'local' | 'bundle' | 'team' | 'listing'
const SECTIONS: ReadonlyArray<Section> = ['overhead', 'ingest', 'memory', 'local', 'bundle', 'team', 'listing']
/** The sections that measure the bench's own SQLite server (the team section starts its own). */
export const ON_DEFAULT_SERVER: ReadonlyArray<Section> = ['ingest', 'memory', 'local']

export interface Settings {
  readonly quick: boolean
  readonly sections: ReadonlySet<Section>
  /** Repetitions of every timed figure. */
  readonly reps: number
  /** Points of each ingest row (the Python fluent row excepted). */
  readonly points: number
  /** Points per concurrency level when the ceiling's best concurrency is looked for. */
  readonly sweepPoints: number
  readonly concurrencies: ReadonlyArray<number>
  /** Points of the Python fluent rows (sync and async): one request per point, so far fewer. */
  readonly fluentPoints: number
  readonly memoryPoints: number
  readonly memoryReps: number
  readonly localPoints: number
  readonly calls: number
  readonly paramCounts: ReadonlyArray<number>
  /** The server's worker processes (MLflow's default is 4; the test harness uses 1). */
  readonly workers: number
  /** Keep the server's SQLite store on tmpfs (/dev/shm), away from the disk's fsync times. */
  readonly tmpfs: boolean
  /** The bench stops (killing the server) after this many minutes whatever happens. */
  readonly deadlineMinutes: number
  /** Instead of the figures: CPU profiles of the ingest path and of a wrapped call. */
  readonly profile: boolean
  /** The server comparison and concurrent writers (issue 12). */
  readonly team: TeamSettings
  /** The local runs listing (issue 12): runs, and points in all. */
  readonly listing: { readonly runs: number; readonly points: number; readonly reps: number }
}

const USAGE = `usage: npm run bench -- [--quick] [--only overhead,ingest,memory,local,bundle,team,listing] [--reps N] [--points N]
       [--fluent-points N] [--memory-points N] [--memory-reps N] [--local-points N] [--workers N] [--disk]
       [--configs sqlite-1,sqlite-4,pg-4,pg-replicas] [--team-points N] [--writers 1,4,16] [--writer-points N]
       [--listing-runs N] [--listing-points N] [--deadline-min M] [--profile]
  CHARMORY_BENCH_CONFIGS=sqlite-1,pg-4 picks the team section's server configurations as --configs does`

const positive = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback
  const n = Number(text.replace(/_/g, ''))
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} takes a positive integer, got ${JSON.stringify(text)}\n${USAGE}`)
  return n
}

export const settingsFrom = (argv: ReadonlyArray<string>): Settings => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string' },
      points: { type: 'string' },
      'fluent-points': { type: 'string' },
      'memory-points': { type: 'string' },
      'memory-reps': { type: 'string' },
      'local-points': { type: 'string' },
      'deadline-min': { type: 'string' },
      workers: { type: 'string' },
      disk: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      configs: { type: 'string' },
      'team-points': { type: 'string' },
      writers: { type: 'string' },
      'writer-points': { type: 'string' },
      'listing-runs': { type: 'string' },
      'listing-points': { type: 'string' },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const quick = values.quick
  const only = values.only?.split(',').map((s) => s.trim()) ?? SECTIONS
  const unknown = only.filter((s) => !SECTIONS.includes(s as Section))
  if (unknown.length > 0) throw new Error(`--only: unknown section ${unknown.join(', ')}\n${USAGE}`)
  const configs = (values.configs ?? process.env['CHARMORY_BENCH_CONFIGS'] ?? CONFIGS.join(','))
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
  const unknownConfigs = configs.filter((c) => !CONFIGS.includes(c as ConfigName))
  if (unknownConfigs.length > 0) throw new Error(`--configs: unknown configuration ${unknownConfigs.join(', ')}\n${USAGE}`)
  const writers = (values.writers ?? '1,4,16').split(',').map((w) => positive('writers', w.trim(), 1))
  return {
    quick,
    sections: new Set(only as Array<Section>),
    reps: positive('reps', values.reps, quick ? 1 : 3),
    points: positive('points', values.points, quick ? 20_000 : 100_000),
    sweepPoints: quick ? 5_000 : 10_000,
    concurrencies: [1, 2, 4, 8],
    fluentPoints: positive('fluent-points', values['fluent-points'], quick ? 100 : 500),
    memoryPoints: positive('memory-points', values['memory-points'], quick ? 200_000 : 1_000_000),
    memoryReps: positive('memory-reps', values['memory-reps'], 1),
    localPoints: positive('local-points', values['local-points'], quick ? 20_000 : 100_000),
    calls: quick ? 200_000 : 1_000_000,
    paramCounts: [1_000, 10_000, 100_000],
    workers: positive('workers', values.workers, 1),
    tmpfs: !values.disk && existsSync('/dev/shm'),
    deadlineMinutes: positive('deadline-min', values['deadline-min'], quick ? 20 : 60),
    profile: values.profile,
    team: {
      configs: configs as Array<ConfigName>,
      reps: positive('reps', values.reps, quick ? 1 : 3),
      points: positive('team-points', values['team-points'], quick ? 10_000 : 30_000),
      sweepPoints: quick ? 5_000 : 10_000,
      concurrencies: [1, 2, 4, 8],
      writers,
      writerPoints: positive('writer-points', values['writer-points'], quick ? 16_000 : 48_000)
    },
    listing: {
      runs: positive('listing-runs', values['listing-runs'], 1_000),
      points: positive('listing-points', values['listing-points'], quick ? 1_000_000 : 10_000_000),
      reps: quick ? 1 : 3
    }
  }
}

// -------------------------------------------------------------------------------------
// the machine
// -------------------------------------------------------------------------------------

const tryRun = (command: string, args: ReadonlyArray<string>): string => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return '(unavailable)'
  }
}

export const machine = (python: string): Record<string, string> => ({
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  os: `${osType()} ${release()}`,
  node: process.version,
  python: tryRun(python, ['--version']),
  mlflow: tryRun(python, ['-c', 'import mlflow; print(mlflow.__version__)']),
  'load average': loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
})

/** The command line of the process whose arguments mention `needle` (the server's folder). */
export const commandLineWith = (needle: string): string | undefined => {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
      const i = args.findIndex((a) => a === 'server')
      if (i >= 0 && args.some((a) => a.includes(needle))) return args.slice(i - 1).map((a) => a.replace(/^.*\/bin\//, '')).join(' ')
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined
}
