/**
 * `charmory-track runs [--experiment NAME] [--filter F] [--order-by O] [--max N] [--json]
 * [--from URI]`: the runs of the local store, or of an MLflow server, as a table or as JSON.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { describeError, type TrackError } from '../Errors.js'
import { listRuns, type RunSummary } from '../local/Store.js'
import type { ExperimentsPage, FoundRun, RunQuery, RunsPage, SearchRunsRequest } from '../Query.js'
import { PAGE } from '../SearchFilter.js'
import { localQuery } from '../local/LocalQuery.js'
import { command } from './Command.js'
import { localStoreOf, withServer } from './io.js'

/**
 * @category constants
 * @since 0.1.0
 */
export const usage = `Usage: charmory-track runs [--experiment NAME] [--filter FILTER] [--order-by KEY]
                          [--max N] [--json] [--from URI]

Lists the runs of the local store (the folder of a file: MLFLOW_TRACKING_URI, else
$ARMORY_HOME/mlruns, ARMORY_HOME defaulting to ~/.armory), newest first: experiment, run id,
name, status, start (UTC), number of params and of metrics, and whether it is synced to a
server (yes, partly, no). With --from, the runs of an MLflow server instead.

  --experiment NAME   only the runs of this experiment (repeatable)
  --filter FILTER     MLflow's search syntax, as "metrics.accuracy > 0.9 and params.model = 'resnet18'"
  --order-by KEY      as "metrics.accuracy DESC" (repeatable; the first one first)
  --max N             at most N runs
  --json              the runs as JSON (params, latest metrics, tags), one array
  --from URI          the MLflow server at this http(s):// address, with the environment's
                      credentials (MLFLOW_TRACKING_USERNAME / _PASSWORD / _TOKEN, ~/.mlflow/credentials)
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

/** A server's run: its experiment's name from `names`, no sync column. */
const remoteRow = (names: ReadonlyMap<string, string>, r: FoundRun): ReadonlyArray<string> => [
  names.get(r.experimentId) ?? r.experimentId,
  r.runId,
  r.runName,
  r.status,
  `${new Date(r.startTime).toISOString().slice(0, 19)}Z`,
  String(Object.keys(r.params).length),
  String(Object.keys(r.metrics).length)
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

/** Up to `max` runs (50000 at most), and whether more match. */
const collect = async (
  query: RunQuery,
  request: SearchRunsRequest,
  max: number | undefined
): Promise<E.Either<TrackError, { readonly runs: ReadonlyArray<FoundRun>; readonly more: boolean }>> => {
  const page = await query.searchRuns({ ...request, maxResults: max ?? PAGE.max })()
  return E.map((p: RunsPage) => ({ runs: p.runs, more: p.nextPageToken !== undefined }))(page)
}

/** Experiments' names by id (of the first 50000: beyond, a table shows the id). */
const experimentNames = async (query: RunQuery): Promise<E.Either<TrackError, ReadonlyMap<string, string>>> => {
  const page = await query.searchExperiments({ maxResults: PAGE.max })()
  return E.map((p: ExperimentsPage): ReadonlyMap<string, string> => new Map(p.experiments.map((e) => [e.experimentId, e.name])))(page)
}

/** JSON has no NaN or infinities: they are written as MLflow writes them, as strings. */
const json = (runs: ReadonlyArray<FoundRun>): string =>
  `${JSON.stringify(runs, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.1.0
 */
export const runsCommand = command({
  name: 'runs',
  usage,
  flags: {
    experiment: { type: 'string', multiple: true },
    filter: { type: 'string' },
    'order-by': { type: 'string', multiple: true },
    max: { type: 'string' },
    json: { type: 'boolean' },
    from: { type: 'string' }
  },
  run: async ({ flags, usageError, failed: fail }, io) => {
    const max = flags.max === undefined ? undefined : Number(flags.max)
    if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) return usageError(`--max takes a positive whole number, not ${JSON.stringify(flags.max)}`)
    /** The runs as JSON or through `show`, with a note on standard error when more match. */
    const print = (found: { readonly runs: ReadonlyArray<FoundRun>; readonly more: boolean }, show: () => string): number => {
      io.stdout.write(flags.json === true ? json(found.runs) : show())
      if (found.more) io.stderr.write(`charmory-track runs: more runs match than the ${found.runs.length} shown (see --max, --filter)\n`)
      return 0
    }
    const request: SearchRunsRequest = {
      ...(flags.experiment === undefined ? {} : { experiments: flags.experiment }),
      ...(flags.filter === undefined ? {} : { filter: flags.filter }),
      ...(flags['order-by'] === undefined ? {} : { orderBy: flags['order-by'] })
    }
    const which = flags.experiment === undefined ? '' : ` of experiment ${flags.experiment.map((n) => JSON.stringify(n)).join(', ')}`
    const matching = flags.filter === undefined ? '' : ' matching the filter'

    if (flags.from !== undefined) {
      return withServer(io, flags.from, {}, async (server) => {
        if (E.isLeft(server)) return fail(server.left)
        const { sink } = server.right
        const names = flags.json === true ? E.right(new Map<string, string>()) : await experimentNames(sink.query)
        if (E.isLeft(names)) return fail(names.left)
        const found = await collect(sink.query, request, max)
        if (E.isLeft(found)) return fail(found.left)
        if (found.right.runs.length === 0 && flags.json !== true) {
          io.stdout.write(`no runs${which}${matching} on ${sink.config.trackingUri}\n`)
          return 0
        }
        return print(found.right, () => table([columns.slice(0, -1), ...found.right.runs.map((r) => remoteRow(names.right, r))]))
      })
    }

    const dir = localStoreOf(io)
    const summaries = flags.json === true ? E.right([]) : await listRuns(dir)()
    if (E.isLeft(summaries)) return fail(summaries.left)
    for (const e of summaries.right.flatMap((r) => r.unreadable)) io.stderr.write(`charmory-track runs: ${describeError(e)}; the line is skipped\n`)
    const found = await collect(localQuery(dir), request, max)
    if (E.isLeft(found)) return fail(found.left)
    if (found.right.runs.length === 0 && flags.json !== true) {
      io.stdout.write(`no runs${which}${matching} in ${dir}\n`)
      return 0
    }
    const byId = new Map(summaries.right.map((s) => [s.runId, s]))
    return print(found.right, () => table([columns, ...found.right.runs.map((r) => row(byId.get(r.runId)!))]))
  }
})
