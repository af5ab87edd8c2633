/**
 * `charmory-track compare RUN_ID... | --experiment NAME [--filter F]`: runs side by side, one
 * column each: the params whose values differ, then every metric's final value with the best
 * of each metric marked, as text, Markdown (for a pull-request comment) or JSON.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TrackError } from '../Errors.js'
import { better, lowerIsBetter, type Direction } from '../Gate.js'
import type { FoundRun, RunQuery, SearchRunsRequest } from '../Query.js'
import { num } from './chart.js'
import { command } from './Command.js'
import { table } from './runs.js'
import { toJson, withRuns } from './source.js'

/**
 * @category constants
 * @since 0.2.0
 */
export const usage = `Usage: charmory-track compare RUN_ID... [flags]
       charmory-track compare --experiment NAME [--filter F] [--order-by KEY] [--max N] [flags]

Shows runs side by side, one column each: the params whose values differ between them (the
others are counted), then the final value of every metric, the best of each marked with *
(in bold with --markdown). A metric whose name says loss, error, mse, perplexity, latency
and the like is lower-is-better, any other higher-is-better, unless a flag says otherwise.

  --experiment NAME          the runs of this experiment (repeatable), newest first
  --filter FILTER            MLflow's search syntax, as "params.model = 'resnet18'"
  --order-by KEY             as "metrics.accuracy DESC" (repeatable)
  --max N                    at most N runs (default 10)
  --higher-is-better METRIC  (repeatable)
  --lower-is-better METRIC   (repeatable)
  --markdown                 a Markdown table, for a pull-request comment
  --json                     the comparison as JSON
  --from URI                 the MLflow server at this http(s):// address, with the
                             environment's credentials; the local store otherwise
  -h, --help                 this help
`

/**
 * One row of a comparison: a param's values, or a metric's values with the direction it
 * improves in and the columns that hold its best value.
 * @category model
 * @since 0.2.0
 */
export interface MetricRow {
  readonly key: string
  readonly direction: Direction
  readonly values: ReadonlyArray<number | undefined>
  /** The columns of the best value; none when fewer than two runs differ in it. */
  readonly best: ReadonlyArray<number>
}

/**
 * Runs side by side.
 * @category model
 * @since 0.2.0
 */
export interface Comparison {
  readonly runs: ReadonlyArray<{ readonly runId: string; readonly runName: string; readonly status: string }>
  /** The params whose values differ (a missing param differs from any value). */
  readonly params: ReadonlyArray<{ readonly key: string; readonly values: ReadonlyArray<string | undefined> }>
  /** How many params hold one value in every run. */
  readonly sameParams: number
  readonly metrics: ReadonlyArray<MetricRow>
}

/**
 * The comparison of `runs`, each metric going the way `directionOf` says.
 * @category utils
 * @since 0.2.0
 */
export const compareRuns = (runs: ReadonlyArray<FoundRun>, directionOf: (metric: string) => Direction): Comparison => {
  const keys = (pick: (r: FoundRun) => Readonly<Record<string, unknown>>): ReadonlyArray<string> =>
    [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort()
  const paramKeys = keys((r) => r.params)
  const params = paramKeys
    .map((key) => ({ key, values: runs.map((r) => (Object.hasOwn(r.params, key) ? r.params[key] : undefined)) }))
    .filter((p) => new Set(p.values).size > 1)
  const metrics = keys((r) => r.metrics).map((key): MetricRow => {
    const direction = directionOf(key)
    const values = runs.map((r) => (Object.hasOwn(r.metrics, key) ? r.metrics[key] : undefined))
    const known = values.filter((v): v is number => v !== undefined && !Number.isNaN(v))
    const top = known.reduce((a, b) => (better(direction, b, a) ? b : a), known[0] ?? NaN)
    const differ = new Set(known).size > 1
    return { key, direction, values, best: differ ? values.flatMap((v, i) => (v === top ? [i] : [])) : [] }
  })
  return {
    runs: runs.map((r) => ({ runId: r.runId, runName: r.runName, status: r.status })),
    params,
    sameParams: paramKeys.length - params.length,
    metrics
  }
}

const arrow = (d: Direction): string => (d === 'higher' ? '↑' : '↓')

const footer = (c: Comparison): string =>
  `${c.sameParams} other param${c.sameParams === 1 ? '' : 's'} the same in every run; * the best value (↑ higher is better, ↓ lower)\n`

/**
 * The comparison as text, for a terminal.
 * @category utils
 * @since 0.2.0
 */
export const renderText = (c: Comparison): string => {
  const rows: Array<ReadonlyArray<string>> = [
    ['', ...c.runs.map((r) => r.runName)],
    ['', ...c.runs.map((r) => r.runId)],
    ['PARAMS', ...c.runs.map(() => '')],
    ...c.params.map((p) => [`  ${p.key}`, ...p.values.map((v) => v ?? '-')]),
    ['METRICS', ...c.runs.map(() => '')],
    ...c.metrics.map((m) => [`  ${m.key} ${arrow(m.direction)}`, ...m.values.map((v, i) => (v === undefined ? '-' : `${num(v)}${m.best.includes(i) ? ' *' : ''}`))])
  ]
  return `${table(rows)}${footer(c)}`
}

const cell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ')

/**
 * The comparison as a Markdown table, the best values in bold.
 * @category utils
 * @since 0.2.0
 */
export const renderMarkdown = (c: Comparison): string => {
  const line = (cells: ReadonlyArray<string>): string => `| ${cells.join(' | ')} |\n`
  return [
    line(['', ...c.runs.map((r) => `${cell(r.runName)}<br>\`${r.runId.slice(0, 8)}\``)]),
    line(['---', ...c.runs.map(() => '---')]),
    c.params.length === 0 ? '' : line(['**params**', ...c.runs.map(() => '')]),
    ...c.params.map((p) => line([cell(p.key), ...p.values.map((v) => (v === undefined ? '-' : cell(v)))])),
    line(['**metrics**', ...c.runs.map(() => '')]),
    ...c.metrics.map((m) =>
      line([`${cell(m.key)} ${arrow(m.direction)}`, ...m.values.map((v, i) => (v === undefined ? '-' : m.best.includes(i) ? `**${num(v)}**` : num(v)))])
    ),
    `\n${footer(c).replace('*', 'bold:')}`
  ].join('')
}

/**
 * Up to `max` runs of the search, read in pages of at most `pageSize`.
 * @category utils
 * @since 0.2.0
 */
export const searchAll = async (
  query: RunQuery,
  request: SearchRunsRequest,
  max: number,
  pageSize = 1000
): Promise<E.Either<TrackError, ReadonlyArray<FoundRun>>> => {
  const runs: Array<FoundRun> = []
  let pageToken: string | undefined
  do {
    const page = await query.searchRuns({ ...request, maxResults: Math.min(max - runs.length, pageSize), ...(pageToken === undefined ? {} : { pageToken }) })()
    if (E.isLeft(page)) return page
    runs.push(...page.right.runs)
    pageToken = page.right.nextPageToken
  } while (pageToken !== undefined && runs.length < max)
  return E.right(runs)
}

/** The runs named, in order. */
const getAll = async (query: RunQuery, ids: ReadonlyArray<string>): Promise<E.Either<TrackError, ReadonlyArray<FoundRun>>> => {
  const runs: Array<FoundRun> = []
  for (const id of ids) {
    const run = await query.getRun(id)()
    if (E.isLeft(run)) return run
    runs.push(run.right)
  }
  return E.right(runs)
}

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.2.0
 */
export const compareCommand = command({
  name: 'compare',
  usage,
  flags: {
    experiment: { type: 'string', multiple: true },
    filter: { type: 'string' },
    'order-by': { type: 'string', multiple: true },
    max: { type: 'string' },
    'higher-is-better': { type: 'string', multiple: true },
    'lower-is-better': { type: 'string', multiple: true },
    markdown: { type: 'boolean' },
    json: { type: 'boolean' },
    from: { type: 'string' }
  },
  positionals: true,
  run: async ({ flags, positionals, usageError, failed }, io) => {
    const searching = flags.experiment !== undefined || flags.filter !== undefined || flags['order-by'] !== undefined
    if (positionals.length === 0 && !searching) return usageError('name runs by id, or search them with --experiment or --filter')
    if (positionals.length > 0 && searching) return usageError('run ids and a search (--experiment, --filter, --order-by) exclude each other')
    const max = flags.max === undefined ? 10 : Number(flags.max)
    if (!(Number.isSafeInteger(max) && max > 0)) return usageError(`--max takes a positive whole number, not ${JSON.stringify(flags.max)}`)
    if (flags.markdown === true && flags.json === true) return usageError('--markdown and --json exclude each other')
    const higher = new Set(flags['higher-is-better'] ?? [])
    const lower = new Set(flags['lower-is-better'] ?? [])
    const both = [...higher].find((m) => lower.has(m))
    if (both !== undefined) return usageError(`${JSON.stringify(both)} cannot be both higher- and lower-is-better`)
    const directionOf = (m: string): Direction => (higher.has(m) ? 'higher' : lower.has(m) || lowerIsBetter(m) ? 'lower' : 'higher')
    return withRuns(io, flags.from, failed, async ({ query, where }) => {
      const found =
        positionals.length > 0
          ? await getAll(query, positionals)
          : await searchAll(
              query,
              {
                ...(flags.experiment === undefined ? {} : { experiments: flags.experiment }),
                ...(flags.filter === undefined ? {} : { filter: flags.filter }),
                ...(flags['order-by'] === undefined ? {} : { orderBy: flags['order-by'] })
              },
              max
            )
      if (E.isLeft(found)) return failed(found.left)
      if (found.right.length === 0 && flags.json !== true) {
        io.stdout.write(`no runs to compare in ${where}\n`)
        return 0
      }
      const c = compareRuns(found.right, directionOf)
      io.stdout.write(flags.json === true ? toJson(c) : flags.markdown === true ? renderMarkdown(c) : renderText(c))
      return 0
    })
  }
})
