/**
 * `charmory-track runs [--experiment NAME]`: the runs of the local store, as a table.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe } from '../Errors.js'
import { listRuns, type RunSummary } from '../LocalStore.js'
import { localStoreOf, parseFlags, type CliIo } from './io.js'

/**
 * @category constants
 * @since 0.1.0
 */
export const usage = `Usage: charmory-track runs [--experiment NAME]

Lists the runs of the local store (the folder of a file: MLFLOW_TRACKING_URI, else
$ARMORY_HOME/mlruns, ARMORY_HOME defaulting to ~/.armory), newest first: experiment, run id,
name, status, start (UTC), number of params and of metrics, and whether it is synced to a
server (yes, partly, no).

  --experiment NAME   only the runs of this experiment
  -h, --help          this help
`

const columns = ['EXPERIMENT', 'RUN ID', 'NAME', 'STATUS', 'START', 'PARAMS', 'METRICS', 'SYNCED'] as const

const row = (r: RunSummary): ReadonlyArray<string> => [
  r.experimentName,
  r.runId,
  r.runName,
  r.status,
  `${new Date(r.startTime).toISOString().slice(0, 19)}Z`,
  String(r.params),
  String(r.metrics),
  r.synced ? 'yes' : r.sync.length > 0 ? 'partly' : 'no'
]

/**
 * Lines of text, each cell padded to its column's width.
 * @category utils
 * @since 0.1.0
 */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows.reduce<Array<number>>((w, r) => r.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [])
  return rows.map((r) => `${r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('')
}

/**
 * Runs the command; yields the exit code.
 * @category commands
 * @since 0.1.0
 */
export const runsCommand = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const flags = parseFlags(io, 'runs', usage, argv, {
    experiment: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  })
  if (flags === undefined) return 2
  if (flags.help === true) {
    io.stdout.write(usage)
    return 0
  }
  const dir = localStoreOf(io)
  const runs = await listRuns(dir, flags.experiment === undefined ? {} : { experiment: flags.experiment })()
  if (E.isLeft(runs)) {
    io.stderr.write(`charmory-track runs: ${describe(runs.left)}\n`)
    return 1
  }
  if (runs.right.length === 0) {
    const which = flags.experiment === undefined ? '' : ` of experiment ${JSON.stringify(flags.experiment)}`
    io.stdout.write(`no runs${which} in ${dir}\n`)
    return 0
  }
  io.stdout.write(table([columns, ...runs.right.map(row)]))
  return 0
}
