// The peer clients of the server comparison: the npm `mlflow` client (2.0.7, the one MLflow
// client on npm) sending hand-made `Runs.logBatch` chunks of 1,000 points one at a time, as its
// users write it; Python's `MlflowClient.log_batch` is bench/python/clients.py.
import npmMlflow from 'mlflow'
import type { Timed } from './ingest.js'
import { keyOf, valueOf } from './support/workload.js'

// its types describe lib/mlflow.js, whose default export the package's index.js hands out as
// the whole module
const MLflow = npmMlflow as unknown as typeof npmMlflow.default

/**
 * `n` points through the npm client, timed from the run's creation to its end. The client
 * prints every request body with `console.log`; that is silenced for the row (as a user
 * would), so that it measures requests, not a terminal.
 */
export const npmMlflowIngest = async (url: string, experimentId: string, n: number): Promise<Timed> => {
  const client = new MLflow({ endpoint: url })
  const log = console.log
  console.log = () => undefined
  try {
    const start = performance.now()
    const cpu = process.cpuUsage()
    const created = (await client.Runs.create({ experiment_id: experimentId, user_id: 'bench', start_time: Date.now() })) as {
      run: { info: { run_id: string } }
    }
    const runId = created.run.info.run_id
    const timestamp = Date.now()
    for (let first = 0; first < n; first += 1000) {
      const metrics = []
      for (let i = first; i < Math.min(n, first + 1000); i++) metrics.push({ key: keyOf(i), value: valueOf(i), timestamp, step: i })
      await client.Runs.logBatch({ run_id: runId, metrics, params: [], tags: [] })
    }
    await client.Runs.update({ run_id: runId, status: 'FINISHED' as Parameters<typeof client.Runs.update>[0]['status'], end_time: Date.now() })
    const used = process.cpuUsage(cpu)
    return { seconds: (performance.now() - start) / 1000, cpuMicros: used.user + used.system, runId }
  } finally {
    console.log = log
  }
}
