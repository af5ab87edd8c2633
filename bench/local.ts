// The local store rows: points per second into `localSink`, then the time `syncStore` takes to
// push that run to the MLflow server. Each repetition writes a fresh store, so every sync
// sends the whole run.
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as lib from 'charmory-track'
import { countingLogger } from './ingest.js'
import { keyOf, valueOf } from './support/workload.js'
import { built } from '../spec/support/sinks.js'

export interface LocalTimes {
  readonly writeSeconds: number
  readonly syncSeconds: number
  /** The run's id on the server, to count what arrived. */
  readonly remoteRunId: string
}

export const localRound = async (
  url: string,
  experiment: string,
  n: number,
  warnings: Array<string>
): Promise<LocalTimes> => {
  const dir = mkdtempSync(join(tmpdir(), 'charmory-bench-store-'))
  try {
    const logger = countingLogger(warnings)
    let start = performance.now()
    const written = await lib.run(
      lib.evaluate({ experiment, runName: `local-${n}` }, async (r) => {
        for (let i = 0; i < n; i++) await r.logMetric(keyOf(i), valueOf(i), { step: i })
      }),
      { sink: lib.localSink({ dir }), logger }
    )
    const writeSeconds = (performance.now() - start) / 1000
    if (E.isLeft(written)) throw new Error(`the local run failed: ${lib.Errors.describeError(written.left)}`)
    const target = await built(lib.mlflowSink(url), { logger })
    try {
      start = performance.now()
      const synced = await lib.syncStore(dir, target)()
      const syncSeconds = (performance.now() - start) / 1000
      if (E.isLeft(synced)) throw new Error(`the sync failed: ${lib.Errors.describeError(synced.left)}`)
      const [one] = synced.right.runs
      if (one?.error !== undefined) throw new Error(`the sync failed: ${lib.Errors.describeError(one.error)}`)
      if (one?.remoteRunId === undefined) throw new Error('the sync created no run on the server')
      return { writeSeconds, syncSeconds, remoteRunId: one.remoteRunId }
    } finally {
      target.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
