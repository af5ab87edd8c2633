/**
 * `charmory-track sync [--to URI] [--dry-run]`: pushes the local store's unsynced runs to an
 * MLflow server, with a progress bar on a terminal and a one-line summary.
 *
 * @since 0.1.0
 */
import { Presets, SingleBar } from 'cli-progress'
import * as E from 'fp-ts/lib/Either.js'
import { describeError } from '../Errors.js'
import { isUnreachable } from '../local/Fallback.js'
import { syncStore, type SyncProgress, type SyncReport } from '../local/Sync.js'
import { command } from './Command.js'
import { localStoreOf, withServer, type CliIo } from './io.js'

/**
 * Where `charmory-track server` listens unless told otherwise.
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_SERVER = 'http://127.0.0.1:5000'

/**
 * @category constants
 * @since 0.1.0
 */
export const usage = `Usage: charmory-track sync [--to URI] [--dry-run]

Pushes every run of the local store that the MLflow server does not have yet: params, metric
histories, tags, status, times, artifacts and parent links. A second sync sends nothing; an
interrupted one resumes where it stopped. Credentials come from the environment, as for the
MLflow sink (MLFLOW_TRACKING_USERNAME / _PASSWORD / _TOKEN, ~/.mlflow/credentials).

  --to URI     the server's http(s):// address; by default MLFLOW_TRACKING_URI when it is one,
               else ${DEFAULT_SERVER} (where \`charmory-track server\` listens)
  --dry-run    count what would be sent; send nothing
  -h, --help   this help
`

/** Retries of a refused connection before the command gives up: about 4 s with the default backoff. */
const REFUSED_RETRIES = 2

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`

const contents = (report: SyncReport): string => {
  const sum = (f: (r: SyncReport['runs'][number]) => number): number => report.runs.reduce((n, r) => n + f(r), 0)
  return [
    plural(sum((r) => r.params), 'param'),
    plural(sum((r) => r.metrics), 'metric point'),
    plural(sum((r) => r.tags), 'tag'),
    plural(sum((r) => r.artifacts), 'artifact')
  ].join(', ')
}

/** A progress bar on a terminal, started at the first news. */
const progressBar = (io: CliIo): { readonly update: (p: SyncProgress) => void; readonly stop: () => void } => {
  const bar = new SingleBar(
    {
      stream: io.stderr as unknown as NodeJS.WritableStream,
      format: 'sync [{bar}] {percentage}% | run {run} of {runs}',
      hideCursor: true,
      clearOnComplete: true
    },
    Presets.shades_classic
  )
  let started = false
  return {
    update: (p) => {
      if (!started) bar.start(p.bytes, 0, { run: 1, runs: p.runs })
      started = true
      bar.update(p.bytesDone, { run: p.runsDone + 1, runs: p.runs })
    },
    stop: () => void (started && bar.stop())
  }
}

/**
 * Syncs the store in `dir` to the server at `uri` (`uriSource` says where it came from, for
 * errors) and reports; yields the exit code. A refused connection fails after a couple of
 * retries, not MLflow's four minutes.
 * @category interpreters
 * @since 0.1.0
 */
export const syncTo = (io: CliIo, dir: string, uri: string, dryRun: boolean, uriSource: string): Promise<number> =>
  // A command fails fast when nothing listens; a run in flight keeps MLflow's long policy.
  withServer(io, uri, { uriSource, refusedRetries: REFUSED_RETRIES }, async (server) => {
    if (E.isLeft(server)) {
      io.stderr.write(`charmory-track sync: ${describeError(server.left)}\n`)
      return 2
    }
    const target = server.right.sink
    const trackingUri = target.config.trackingUri
    const bar = dryRun || io.stderr.isTTY !== true ? undefined : progressBar(io)
    const result = await syncStore(dir, target, { dryRun, onProgress: bar?.update })()
    bar?.stop()
    if (E.isLeft(result)) {
      const hint = isUnreachable(result.left) ? ' (is it running? `charmory-track server` starts one)' : ''
      io.stderr.write(`charmory-track sync: ${describeError(result.left)}${hint}\n`)
      return 1
    }
    const report = result.right
    const failed = report.runs.filter((r) => r.error !== undefined)
    for (const r of failed) io.stderr.write(`charmory-track sync: run ${r.runId} failed: ${describeError(r.error!)}\n`)
    for (const r of report.runs) {
      for (const e of r.unreadable) io.stderr.write(`charmory-track sync: run ${r.runId}: ${describeError(e)}; the line was skipped, the rest sent\n`)
    }
    const n = report.runs.length
    if (n === 0) io.stdout.write(`nothing to sync: every run in ${dir} is on ${trackingUri}\n`)
    else if (dryRun) io.stdout.write(`would sync ${plural(n, 'run')} to ${trackingUri}: ${contents(report)}\n`)
    else io.stdout.write(`synced ${n - failed.length} of ${plural(n, 'run')} to ${trackingUri}: ${contents(report)}\n`)
    return failed.length === 0 ? 0 : 1
  })

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.1.0
 */
export const syncCommand = command({
  name: 'sync',
  usage,
  flags: { to: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  run: ({ flags }, io) => {
    const fromEnv = io.env['MLFLOW_TRACKING_URI']?.trim()
    const uri = flags.to ?? (fromEnv !== undefined && /^https?:\/\//i.test(fromEnv) ? fromEnv : DEFAULT_SERVER)
    const source = flags.to !== undefined ? '--to' : 'MLFLOW_TRACKING_URI'
    return syncTo(io, localStoreOf(io), uri, flags['dry-run'] === true, source)
  }
})
