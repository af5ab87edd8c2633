// Metric ingest rows run inside the bench's own process: this library (logMetric point by
// point inside `evaluate`, on `mlflowSink`) and the ceiling (pre-built `log-batch` bodies of
// 1,000 points over plain keep-alive HTTP, several requests in flight).
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Errors, Platform, evaluate, mlflowSink, run } from 'charmory-track'
import { createRun, endRun, type Rest } from './support/rest.js'
import { keyOf, valueOf } from './support/workload.js'
import { built } from '../spec/support/sinks.js'

export interface Timed {
  readonly seconds: number
  readonly runId: string
  /** CPU time of this process (user + system) over the row, in microseconds. */
  readonly cpuMicros: number
}

const clock = (): (() => { seconds: number; cpuMicros: number }) => {
  const start = performance.now()
  const cpu = process.cpuUsage()
  return () => {
    const used = process.cpuUsage(cpu)
    return { seconds: (performance.now() - start) / 1000, cpuMicros: used.user + used.system }
  }
}

/** Warnings (retries) are counted and shown: a row that needed retries says so. */
export const countingLogger = (warnings: Array<string>): Platform.Logger => ({
  warn: (m) => void warnings.push(m),
  info: () => undefined
})

/**
 * `n` points through `logMetric`, one call and one await per point, timed until the run
 * ended; with `journaled`, every run is also journaled in a local store (in a temporary
 * folder, on disk), as `run` does by default.
 */
export const libraryIngest = async (
  url: string,
  experiment: string,
  n: number,
  warnings: Array<string>,
  journaled = false
): Promise<Timed> => {
  const dir = mkdtempSync(join(tmpdir(), 'charmory-bench-journal-'))
  const sink = await built(mlflowSink(url, { journal: journaled && { dir } }), { logger: countingLogger(warnings) })
  try {
    const stop = clock()
    const result = await run(
      evaluate({ experiment, runName: `library-${n}` }, async (r) => {
        for (let i = 0; i < n; i++) await r.logMetric(keyOf(i), valueOf(i), { step: i })
      }),
      { sink, logger: countingLogger(warnings) }
    )
    const t = stop()
    if (E.isLeft(result)) throw new Error(`the library's run failed: ${Errors.describeError(result.left)}`)
    return { ...t, runId: result.right.runId }
  } finally {
    sink.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The `log-batch` bodies of `n` points in chunks of 1,000, built before the clock starts. */
const bodies = (runId: string, n: number): Array<string> => {
  const out: Array<string> = []
  const t0 = Date.now()
  for (let start = 0; start < n; start += 1000) {
    const metrics = []
    for (let i = start; i < Math.min(n, start + 1000); i++) metrics.push({ key: keyOf(i), value: valueOf(i), timestamp: t0, step: i })
    out.push(JSON.stringify({ run_id: runId, metrics }))
  }
  return out
}

/** The ceiling: the prepared bodies sent by `concurrency` senders over keep-alive connections. */
export const ceilingIngest = async (http: Rest, experimentId: string, n: number, concurrency: number): Promise<Timed> => {
  const runId = await createRun(http, experimentId, `ceiling-${n}-x${concurrency}`)
  const prepared = bodies(runId, n)
  const stop = clock()
  let next = 0
  const sender = async (): Promise<void> => {
    while (next < prepared.length) await http.post('mlflow/runs/log-batch', prepared[next++] as string)
  }
  await Promise.all(Array.from({ length: concurrency }, sender))
  const t = stop()
  await endRun(http, runId)
  return { ...t, runId }
}
