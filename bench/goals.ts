// The goals of issue 5 against the figures just measured.
import { bundleGoal, type BundleResult } from './bundle.js'
import type { IngestResult, LocalResult, MemoryResult, OverheadResult } from './sections.js'
import { num, table } from './support/stats.js'

interface Results {
  readonly overhead?: OverheadResult
  readonly ingest?: IngestResult
  readonly memory?: MemoryResult
  readonly local?: LocalResult
  readonly bundle?: BundleResult
}

type Verdict = readonly [goal: string, measured: string, met: boolean | undefined]

const ingestGoals = (r: IngestResult): ReadonlyArray<Verdict> => {
  const lib = r.rows.get('library')?.rate
  const ceiling = r.rows.get('ceiling')?.rate
  const batch = r.rows.get('log_batch')?.rate
  const toCeiling = lib === undefined || ceiling === undefined ? undefined : lib.median / ceiling.median
  const toBatch = lib === undefined || batch === undefined ? undefined : lib.median / batch.median
  return [
    ['ingest >= 0.9x the ceiling', toCeiling === undefined ? 'not measured' : `${toCeiling.toFixed(2)}x`, toCeiling === undefined ? undefined : toCeiling >= 0.9],
    ['ingest >= 1.5x MlflowClient.log_batch', toBatch === undefined ? 'not measured' : `${toBatch.toFixed(2)}x`, toBatch === undefined ? undefined : toBatch >= 1.5]
  ]
}

const overheadGoals = (r: OverheadResult): ReadonlyArray<Verdict> => {
  const first = r.steps[0]?.ns
  const last = r.steps[r.steps.length - 1]?.ns
  // linear: the cost of one param does not grow with the count (quadratic would be ~100x
  // from 1k to 100k); twice is left for cache effects
  const growth = first === undefined || last === undefined ? undefined : last.median / first.median
  return [
    ['wrapped call overhead < 1 µs', `${num(r.overhead.median)} ns`, r.overhead.median < 1000],
    [
      'param recording linear up to 100k (per-param cost at 100k <= 2x that at 1k)',
      growth === undefined ? `failed: ${r.steps.find((s) => s.ns === undefined)?.error ?? '?'}` : `${growth.toFixed(2)}x`,
      growth === undefined ? false : growth <= 2
    ]
  ]
}

export const goals = (r: Results, more: ReadonlyArray<Verdict> = []): string => {
  const rows: Array<Verdict> = [
    ...more,
    ...(r.ingest === undefined ? [] : ingestGoals(r.ingest)),
    ...(r.overhead === undefined ? [] : overheadGoals(r.overhead)),
    ...(r.memory === undefined
      ? []
      : [
          [
            `peak RSS < 150 MB for ${num(r.memory.points)} streamed points`,
            r.memory.peak === undefined ? 'not measured' : `${num(r.memory.peak.median)} MB`,
            r.memory.peak === undefined ? undefined : r.memory.peak.median < 150
          ] as const
        ]),
    ...(r.bundle === undefined ? [] : [bundleGoal(r.bundle)])
  ]
  return table(
    ['goal', 'measured', 'met'],
    rows.map(([goal, measured, met]) => [goal, measured, met === undefined ? '–' : met ? 'yes' : 'NO'])
  )
}
