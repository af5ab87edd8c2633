/**
 * `charmory-track show RUN_ID [--json] [--from URI]`: one run whole: status, times, params,
 * tags, final metrics with a sparkline of each history (min, max, last), artifacts.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TrackError } from '../Errors.js'
import type { FoundRun, RunQuery } from '../Query.js'
import { PAGE } from '../SearchFilter.js'
import type { ArtifactFile } from './artifacts.js'
import { num, sparkline } from './chart.js'
import { command } from './Command.js'
import { table } from './runs.js'
import { toJson, withRuns, type RunSource } from './source.js'

/**
 * @category constants
 * @since 0.2.0
 */
export const usage = `Usage: charmory-track show RUN_ID [--json] [--from URI]

Shows one run of the local store (or of the server of --from): experiment, status, start and
end (UTC), params, tags, every metric's last value with the min, max and number of points of
its history and a sparkline of it (oldest to newest), and the artifacts.

  --json        the same as JSON
  --from URI    the MLflow server at this http(s):// address, with the environment's
                credentials; the local store otherwise
  -h, --help    this help
`

/**
 * What `show` says of one metric: its last value, and its history's extent.
 * @category model
 * @since 0.2.0
 */
export interface MetricSummary {
  readonly last: number
  readonly min: number
  readonly max: number
  readonly points: number
  readonly sparkline: string
}

/**
 * Everything `show` prints about a run.
 * @category model
 * @since 0.2.0
 */
export interface RunDetails {
  readonly run: FoundRun
  readonly experimentName: string | undefined
  readonly metrics: Readonly<Record<string, MetricSummary>>
  readonly artifacts: ReadonlyArray<ArtifactFile>
}

/** The history of one metric, read page by page; min and max leave NaN out. */
const summarize = async (query: RunQuery, runId: string, key: string, last: number): Promise<E.Either<TrackError, MetricSummary>> => {
  const values: Array<number> = []
  let pageToken: string | undefined
  do {
    const page = await query.getMetricHistory(runId, key, { maxResults: 25_000, ...(pageToken === undefined ? {} : { pageToken }) })()
    if (E.isLeft(page)) return page
    for (const m of page.right.metrics) values.push(m.value)
    pageToken = page.right.nextPageToken
  } while (pageToken !== undefined)
  const known = values.filter((v) => !Number.isNaN(v))
  return E.right({
    last,
    min: known.length === 0 ? NaN : Math.min(...known),
    max: known.length === 0 ? NaN : Math.max(...known),
    points: values.length,
    sparkline: sparkline(values)
  })
}

/**
 * The details of the run `runId` of `source`: the run, its experiment's name, each metric's
 * summary, and its artifacts.
 * @category utils
 * @since 0.2.0
 */
export const runDetails = async (source: RunSource, runId: string): Promise<E.Either<TrackError, RunDetails>> => {
  const { query } = source
  const found = await query.getRun(runId)()
  if (E.isLeft(found)) return found
  const run = found.right
  const experiments = await query.searchExperiments({ maxResults: PAGE.max })()
  if (E.isLeft(experiments)) return experiments
  // entries, not `metrics[key] =`: a metric named `__proto__` is a metric like any other
  const summaries: Array<readonly [string, MetricSummary]> = []
  for (const key of Object.keys(run.metrics).sort()) {
    const summary = await summarize(query, run.runId, key, run.metrics[key]!)
    if (E.isLeft(summary)) return summary
    summaries.push([key, summary.right])
  }
  const metrics: Record<string, MetricSummary> = Object.fromEntries(summaries)
  const files = await source.artifacts(run.runId)()
  if (E.isLeft(files)) return files
  const experimentName = experiments.right.experiments.find((e) => e.experimentId === run.experimentId)?.name
  return E.right({ run, experimentName, metrics, artifacts: files.right })
}

const time = (ms: number | undefined): string => (ms === undefined ? '-' : `${new Date(ms).toISOString().slice(0, 19)}Z`)

const duration = (start: number, end: number | undefined): string => {
  if (end === undefined) return ''
  const s = Math.round((end - start) / 1000)
  return ` (${s >= 3600 ? `${Math.floor(s / 3600)}h ` : ''}${s >= 60 ? `${Math.floor((s % 3600) / 60)}m ` : ''}${s % 60}s)`
}

const size = (bytes: number | undefined): string =>
  bytes === undefined ? '' : bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${num(bytes / 1024)} KiB` : `${num(bytes / 1024 / 1024)} MiB`

const indent = (text: string): string => text.replace(/^(?=.)/gm, '  ')

const section = (title: string, rows: ReadonlyArray<ReadonlyArray<string>>, header?: ReadonlyArray<string>): string =>
  rows.length === 0 ? `${title}: none\n` : `${title}:\n${indent(table(header === undefined ? rows : [header, ...rows]))}`

/**
 * The details as text, for a terminal.
 * @category utils
 * @since 0.2.0
 */
export const renderDetails = (d: RunDetails): string => {
  const { run } = d
  const head = table([
    ['run', run.runId],
    ['name', run.runName],
    ['experiment', d.experimentName === undefined ? run.experimentId : `${d.experimentName} (id ${run.experimentId})`],
    ['status', run.status],
    ['start', time(run.startTime)],
    ['end', `${time(run.endTime)}${duration(run.startTime, run.endTime)}`]
  ])
  const entries = (r: Readonly<Record<string, string>>) => Object.keys(r).sort().map((k) => [k, r[k]!])
  const metrics = Object.entries(d.metrics).map(([k, m]) => [k, num(m.last), num(m.min), num(m.max), String(m.points), m.points > 1 ? m.sparkline : ''])
  return [
    head,
    section('params', entries(run.params)),
    section('metrics', metrics, ['', 'LAST', 'MIN', 'MAX', 'POINTS', 'HISTORY']),
    section('tags', entries(run.tags)),
    section('artifacts', d.artifacts.map((a) => [a.path, size(a.size)]))
  ].join('\n')
}

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.2.0
 */
export const showCommand = command({
  name: 'show',
  usage,
  flags: { json: { type: 'boolean' }, from: { type: 'string' } },
  positionals: true,
  run: async ({ flags, positionals, usageError, failed }, io) => {
    const [runId, ...extra] = positionals
    if (runId === undefined || extra.length > 0) {
      return usageError(runId === undefined ? 'a run id is needed' : `one run id at a time, not ${positionals.length}`)
    }
    return withRuns(io, flags.from, failed, async (source) => {
      const details = await runDetails(source, runId)
      if (E.isLeft(details)) return failed(details.left)
      io.stdout.write(flags.json === true ? toJson(details.right) : renderDetails(details.right))
      return 0
    })
  }
})
