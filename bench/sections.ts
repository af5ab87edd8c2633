// The four sections of the bench. Each prints its table as soon as it has it and returns
// its figures for the goals at the end.
import { dirname, join } from 'node:path'
import { ceilingIngest, libraryIngest, type Timed } from './ingest.js'
import { localRound } from './local.js'
import { callCosts, paramObjectCost, paramStepCost } from './overhead.js'
import type { Settings } from './settings.js'
import { nodeTs, runJson } from './support/child.js'
import { countPoints, experimentId, rest, runStatus, type Rest } from './support/rest.js'
import { figure, num, ratio, show, table, type Figure } from './support/stats.js'
import { KEYS, perKey } from './support/workload.js'

export interface Context {
  readonly settings: Settings
  readonly url: string
  readonly python: string
  readonly log: (line: string) => void
}

const say = (ctx: Context, text: string): void => ctx.log(text)

// -------------------------------------------------------------------------------------
// 1. metric ingest
// -------------------------------------------------------------------------------------

export type RowName = 'ceiling' | 'library' | 'journal' | 'log_batch' | 'fluent' | 'async'

export interface IngestRow {
  readonly name: RowName
  readonly label: string
  readonly points: number
  /** Points per second. */
  readonly rate: Figure | undefined
  /** CPU of the client process per point, in microseconds. */
  readonly cpu: Figure | undefined
  readonly error: string | undefined
}

export interface IngestResult {
  readonly sweep: ReadonlyArray<{ readonly concurrency: number; readonly rate: number }>
  readonly best: number
  readonly rows: ReadonlyMap<RowName, IngestRow>
}

interface PythonAnswer {
  readonly seconds: number
  readonly cpu_seconds: number
  readonly run_id: string
}

const python = async (ctx: Context, mode: 'log_batch' | 'fluent' | 'async', experiment: string, n: number): Promise<Timed> => {
  const a = await runJson<PythonAnswer>(ctx.python, ['bench/python/clients.py', ctx.url, experiment, mode, String(n)], {
    timeoutMs: 15 * 60_000
  })
  return { seconds: a.seconds, runId: a.run_id, cpuMicros: a.cpu_seconds * 1e6 }
}

/** Every point arrived and the run ended: checked once per row, off the clock. */
const verify = async (http: Rest, t: Timed, n: number, ended: boolean): Promise<void> => {
  const got = await countPoints(http, t.runId, KEYS[0] as string)
  if (got !== perKey(n)) throw new Error(`run ${t.runId} holds ${got} points of ${KEYS[0]}, expected ${perKey(n)}`)
  if (ended && (await runStatus(http, t.runId)) !== 'FINISHED') throw new Error(`run ${t.runId} is not FINISHED`)
}

const sweep = async (ctx: Context, http: Rest, experiment: string): Promise<IngestResult['sweep']> => {
  const out: Array<{ concurrency: number; rate: number }> = []
  for (const concurrency of ctx.settings.concurrencies) {
    const t = await ceilingIngest(http, experiment, ctx.settings.sweepPoints, concurrency)
    out.push({ concurrency, rate: ctx.settings.sweepPoints / t.seconds })
    say(ctx, `  ceiling sweep: ${concurrency} in flight: ${num(ctx.settings.sweepPoints / t.seconds)} points/s`)
  }
  return out
}

interface Samples {
  rates: Array<number>
  cpu: Array<number>
  error: string | undefined
}

const measure = async (ctx: Context, http: Rest, samples: Samples, n: number, label: string, go: () => Promise<Timed>, first: boolean) => {
  if (samples.error !== undefined) return
  try {
    const t = await go()
    if (first) await verify(http, t, n, label !== 'ceiling')
    samples.rates.push(n / t.seconds)
    samples.cpu.push(t.cpuMicros / n)
    say(ctx, `  ${label}: ${num(n / t.seconds)} points/s (${num(t.seconds)} s, client CPU ${num(t.cpuMicros / n)} µs/point)`)
  } catch (e) {
    samples.error = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e)
    say(ctx, `  ${label}: FAILED: ${samples.error}`)
  }
}

const LABELS: Readonly<Record<RowName, string>> = {
  ceiling: 'ceiling: prepared log-batch bodies, plain HTTP',
  library: 'charmory-track: logMetric per point (mlflowSink, journal off)',
  journal: 'charmory-track: logMetric per point (mlflowSink, journal on: the default)',
  log_batch: 'Python MlflowClient.log_batch, chunks of 1,000',
  fluent: 'Python mlflow.log_metric loop',
  async: 'Python mlflow.log_metric loop, async logging'
}

export const ingestSection = async (ctx: Context): Promise<IngestResult> => {
  const s = ctx.settings
  const http = rest(ctx.url)
  try {
    const experiment = await experimentId(http, 'bench-ingest')
    say(ctx, `\n## 1. Metric ingest: ${num(s.points)} points into one run, keys cycling over ${KEYS.length} names\n`)
    const found = await sweep(ctx, http, experiment)
    const best = found.reduce((a, b) => (b.rate > a.rate ? b : a)).concurrency
    say(ctx, `  best concurrency for the ceiling: ${best}`)
    const samples = new Map<RowName, Samples>(
      (['ceiling', 'library', 'journal', 'log_batch', 'async', 'fluent'] as const).map((k) => [k, { rates: [], cpu: [], error: undefined }])
    )
    const warnings: Array<string> = []
    const runs: Record<RowName, () => Promise<Timed>> = {
      ceiling: () => ceilingIngest(http, experiment, s.points, best),
      library: () => libraryIngest(ctx.url, 'bench-ingest', s.points, warnings),
      journal: () => libraryIngest(ctx.url, 'bench-ingest', s.points, warnings, true),
      log_batch: () => python(ctx, 'log_batch', 'bench-ingest', s.points),
      // one request per point (async logging sends them one by one too): fewer points
      fluent: () => python(ctx, 'fluent', 'bench-ingest', s.fluentPoints),
      async: () => python(ctx, 'async', 'bench-ingest', s.fluentPoints)
    }
    const order = Object.keys(runs) as Array<RowName>
    for (let rep = 0; rep < s.reps; rep++) {
      say(ctx, ` repetition ${rep + 1} of ${s.reps}`)
      // the order turns from one repetition to the next, so that a drift of the server
      // (its database grows) does not always fall on the same row
      for (let k = 0; k < order.length; k++) {
        const name = order[(k + rep) % order.length] as RowName
        const n = name === 'fluent' || name === 'async' ? s.fluentPoints : s.points
        await measure(ctx, http, samples.get(name) as Samples, n, name, runs[name], rep === 0)
      }
    }
    if (warnings.length > 0) say(ctx, `  the library warned ${warnings.length} times, first: ${warnings[0]}`)
    const rows = new Map<RowName, IngestRow>(
      [...samples].map(([name, x]) => [
        name,
        {
          name,
          label: name === 'ceiling' ? `${LABELS.ceiling}, ${best} in flight` : LABELS[name],
          points: name === 'fluent' || name === 'async' ? s.fluentPoints : s.points,
          rate: x.rates.length === 0 ? undefined : figure(x.rates),
          cpu: x.cpu.length === 0 ? undefined : figure(x.cpu),
          error: x.error
        }
      ])
    )
    const result = { sweep: found, best, rows }
    say(ctx, `\n${ingestTable(result)}\n`)
    return result
  } finally {
    http.close()
  }
}

export const ingestTable = (r: IngestResult): string => {
  const of = (n: RowName) => r.rows.get(n)?.rate
  const names: ReadonlyArray<RowName> = ['ceiling', 'library', 'journal', 'log_batch', 'async', 'fluent']
  return table(
    ['row', 'points', 'points/s: median [min–max]', '÷ ceiling', '÷ log_batch', '÷ async', '÷ fluent', 'client CPU µs/point'],
    names.map((n) => {
      const row = r.rows.get(n) as IngestRow
      if (row.rate === undefined) return [row.label, num(row.points), `failed: ${row.error ?? '?'}`, '', '', '', '', '']
      return [
        row.label,
        num(row.points),
        show(row.rate),
        ratio(row.rate, of('ceiling')),
        ratio(row.rate, of('log_batch')),
        ratio(row.rate, of('async')),
        ratio(row.rate, of('fluent')),
        row.cpu === undefined ? '' : show(row.cpu)
      ]
    })
  )
}

// -------------------------------------------------------------------------------------
// 2. tracking overhead
// -------------------------------------------------------------------------------------

export interface OverheadResult {
  readonly bare: Figure
  readonly wrapped: Figure
  readonly overhead: Figure
  readonly steps: ReadonlyArray<{ readonly n: number; readonly ns: Figure | undefined; readonly error?: string }>
  readonly object: ReadonlyArray<{ readonly n: number; readonly ns: Figure | undefined; readonly error?: string }>
}

const paramFigures = async (ctx: Context, what: string, cost: (n: number) => Promise<number>) => {
  const out: Array<{ n: number; ns: Figure | undefined; error?: string }> = []
  await cost(Math.min(...ctx.settings.paramCounts)).catch(() => undefined) // warm-up: let the JIT settle
  for (const n of ctx.settings.paramCounts) {
    const xs: Array<number> = []
    try {
      for (let rep = 0; rep < Math.max(3, ctx.settings.reps); rep++) xs.push(await cost(n))
      out.push({ n, ns: figure(xs) })
      say(ctx, `  ${what}, ${num(n)} params: ${show(figure(xs), ' ns')} per param`)
    } catch (e) {
      const error = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e)
      out.push({ n, ns: undefined, error })
      say(ctx, `  ${what}, ${num(n)} params: FAILED: ${error}`)
    }
  }
  return out
}

export const overheadSection = async (ctx: Context): Promise<OverheadResult> => {
  say(ctx, `\n## 2. Tracking overhead (no server)\n`)
  callCosts(Math.min(ctx.settings.calls, 100_000)) // warm-up: let the JIT settle
  const bare: Array<number> = []
  const wrapped: Array<number> = []
  const reps = Math.max(5, ctx.settings.reps)
  for (let rep = 0; rep < reps; rep++) {
    const c = callCosts(ctx.settings.calls)
    bare.push(c.bare)
    wrapped.push(c.wrapped)
  }
  const overhead = figure(wrapped.map((w, i) => w - (bare[i] as number)))
  say(ctx, `  withParams(loadModel)(5-key options): ${show(figure(wrapped), ' ns')}, bare call ${show(figure(bare), ' ns')}`)
  const steps = await paramFigures(ctx, 'trackParam steps (Track.traverseArray)', paramStepCost)
  const object = await paramFigures(ctx, 'one trackParam of a config object', paramObjectCost)
  const result = { bare: figure(bare), wrapped: figure(wrapped), overhead, steps, object }
  say(ctx, `\n${overheadTable(result)}\n`)
  return result
}

const growth = (xs: OverheadResult['steps']): string => {
  const first = xs[0]?.ns
  const last = xs[xs.length - 1]?.ns
  return first === undefined || last === undefined ? '–' : `${(last.median / first.median).toFixed(2)}x`
}

export const overheadTable = (r: OverheadResult): string =>
  [
    table(
      ['call', 'ns per call: median [min–max]'],
      [
        ['loadModel(options), bare', show(r.bare)],
        ['withParams(loadModel)(options)', show(r.wrapped)],
        ['overhead of the wrapper', show(r.overhead)]
      ]
    ),
    '',
    table(
      ['params recorded into one context', ...r.steps.map((s) => num(s.n)), `per-param cost, ${num(r.steps.at(-1)?.n ?? 0)} ÷ ${num(r.steps[0]?.n ?? 0)}`],
      [
        ['trackParam steps (Track.traverseArray), ns/param', ...r.steps.map((s) => (s.ns === undefined ? `failed: ${s.error}` : show(s.ns))), growth(r.steps)],
        ['one trackParam of a config object, ns/param', ...r.object.map((s) => (s.ns === undefined ? `failed: ${s.error}` : show(s.ns))), growth(r.object)]
      ]
    )
  ].join('\n')

// -------------------------------------------------------------------------------------
// 3. memory
// -------------------------------------------------------------------------------------

interface StreamAnswer {
  readonly points: number
  readonly seconds: number
  readonly cpuMicros: number
  readonly baselineMb: number
  readonly peakMb: number
  readonly checkpoints: ReadonlyArray<{ readonly points: number; readonly peakMb: number }>
  readonly warnings: number
  readonly runId: string
}

export interface MemoryResult {
  readonly points: number
  readonly peak: Figure | undefined
  readonly baseline: Figure | undefined
  readonly rate: Figure | undefined
  readonly checkpoints: StreamAnswer['checkpoints']
  readonly error: string | undefined
}

export const streamChild = (ctx: Context, points: number, nodeFlags: ReadonlyArray<string> = [], env?: NodeJS.ProcessEnv) => {
  const [cmd, args] = nodeTs('bench/children/stream.ts', [ctx.url, 'bench-memory', String(points)], nodeFlags)
  return runJson<StreamAnswer>(cmd, args, { timeoutMs: 20 * 60_000, ...(env === undefined ? {} : { env }) })
}

export const memorySection = async (ctx: Context): Promise<MemoryResult> => {
  const n = ctx.settings.memoryPoints
  say(ctx, `\n## 3. Memory: ${num(n)} points streamed into one run, in a child process\n`)
  const answers: Array<StreamAnswer> = []
  let error: string | undefined
  try {
    for (let rep = 0; rep < ctx.settings.memoryReps; rep++) {
      const a = await streamChild(ctx, n)
      answers.push(a)
      say(ctx, `  peak RSS ${num(a.peakMb)} MB (${num(a.baselineMb)} MB after loading), ${num(n / a.seconds)} points/s, ${a.warnings} warnings`)
      say(ctx, `  peak RSS as the points went: ${a.checkpoints.map((c) => `${num(c.points)}: ${num(c.peakMb)}`).join(', ')}`)
    }
    if (answers[0] !== undefined) {
      const http = rest(ctx.url)
      try {
        await verify(http, { seconds: 0, cpuMicros: 0, runId: answers[0].runId }, n, true)
      } finally {
        http.close()
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e)
    say(ctx, `  FAILED: ${error}`)
  }
  const of = (f: (a: StreamAnswer) => number) => (answers.length === 0 ? undefined : figure(answers.map(f)))
  return {
    points: n,
    peak: of((a) => a.peakMb),
    baseline: of((a) => a.baselineMb),
    rate: of((a) => n / a.seconds),
    checkpoints: answers[0]?.checkpoints ?? [],
    error
  }
}

export const memoryTable = (r: MemoryResult): string =>
  r.peak === undefined
    ? `memory: failed: ${r.error ?? '?'}`
    : table(
        ['points streamed', 'peak RSS, MB', 'RSS after loading, MB', 'peak RSS at 10% / 50% / 100% of the points, MB', 'points/s'],
        [
          [
            num(r.points),
            show(r.peak),
            show(r.baseline as Figure),
            [0, 4, 9].map((i) => (r.checkpoints[i] === undefined ? '–' : num(r.checkpoints[i].peakMb))).join(' / '),
            show(r.rate as Figure)
          ]
        ]
      )

// -------------------------------------------------------------------------------------
// 4. local store
// -------------------------------------------------------------------------------------

export interface LocalResult {
  readonly points: number
  readonly write: Figure | undefined
  readonly sync: Figure | undefined
  readonly error: string | undefined
}

export const localSection = async (ctx: Context): Promise<LocalResult> => {
  const n = ctx.settings.localPoints
  say(ctx, `\n## 4. Local store: ${num(n)} points into localSink, then syncStore to the server\n`)
  const write: Array<number> = []
  const sync: Array<number> = []
  const warnings: Array<string> = []
  const http = rest(ctx.url)
  let error: string | undefined
  try {
    for (let rep = 0; rep < ctx.settings.reps; rep++) {
      const t = await localRound(ctx.url, 'bench-local', n, warnings)
      if (rep === 0) await verify(http, { seconds: 0, cpuMicros: 0, runId: t.remoteRunId }, n, true)
      write.push(n / t.writeSeconds)
      sync.push(t.syncSeconds)
      say(ctx, `  localSink: ${num(n / t.writeSeconds)} points/s; syncStore: ${num(t.syncSeconds)} s (${num(n / t.syncSeconds)} points/s)`)
    }
  } catch (e) {
    error = e instanceof Error ? e.message.split('\n').slice(0, 3).join(' ') : String(e)
    say(ctx, `  FAILED: ${error}`)
  } finally {
    http.close()
  }
  if (warnings.length > 0) say(ctx, `  ${warnings.length} warnings, first: ${warnings[0]}`)
  return { points: n, write: write.length === 0 ? undefined : figure(write), sync: sync.length === 0 ? undefined : figure(sync), error }
}

export const localTable = (r: LocalResult): string =>
  r.write === undefined
    ? `local store: failed: ${r.error ?? '?'}`
    : table(
        ['local store', 'points', 'median [min–max]'],
        [
          ['localSink: logMetric per point, points/s', num(r.points), show(r.write)],
          ...(r.sync === undefined
            ? [['syncStore of that run to the server', num(r.points), `failed: ${r.error ?? '?'}`]]
            : [
                ['syncStore of that run to the server, s', num(r.points), show(r.sync, ' s')],
                ['syncStore, points/s', num(r.points), show(figure(r.sync.samples.map((s) => r.points / s)))]
              ])
        ]
      )

export const pythonOf = (mlflow: string): string => join(dirname(mlflow), 'python')
