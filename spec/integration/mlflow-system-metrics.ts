// System metrics against the real pinned server: Node's sampler at a short interval (set by
// MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL), a task that runs until the server holds two
// samples (found by polling, not by sleeping a fixed time), names read back by MLflow's
// Python client.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Errors, evaluate, mlflowSink, run, SystemMetrics } from 'charmory-track'
import { fixedSource } from '../support/behaviour.js'
import { built } from '../support/sinks.js'
import { childEnv } from '../support/local-store.js'
import { restGet } from '../support/mlflow-read.js'
import { mlflowExecutable, serverFor } from '../support/mlflow-server.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const pythonRead = (runId: string): { names: Array<string>; steps: Array<number> } => {
  const script = `
import json, sys
from mlflow import MlflowClient
c = MlflowClient()
run = c.get_run(sys.argv[1])
names = sorted(k for k in run.data.metrics if k.startswith("system/"))
steps = [m.step for m in c.get_metric_history(sys.argv[1], "system/cpu_utilization_percentage")]
print(json.dumps({"names": names, "steps": sorted(steps)}))
`
  const text = execFileSync(join(dirname(mlflowExecutable()!), 'python'), ['-c', script, runId], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: childEnv({ MLFLOW_TRACKING_URI: server.url })
  })
  return JSON.parse(text) as { names: Array<string>; steps: Array<number> }
}

t.test('a run sampled by Node shows MLflow\'s system metric names, step by step', async (t) => {
  const saved = process.env['MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL']
  process.env['MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL'] = '0.2'
  t.teardown(() => {
    if (saved === undefined) delete process.env['MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL']
    else process.env['MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL'] = saved
  })
  const sink = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
  t.teardown(() => sink.close())
  const experiment = `system metrics ${randomUUID().slice(0, 8)}`
  const r = await run(
    evaluate({ experiment, systemMetrics: true }, async (handle) => {
      // Poll the server until two samples have arrived; bounded so a broken monitor fails.
      for (let i = 0; i < 600; i++) {
        const q = new URLSearchParams({ run_id: handle.runId, metric_key: 'system/cpu_utilization_percentage' })
        const page = await restGet(server.url, `mlflow/metrics/get-history?${q}`)
        if (((page['metrics'] ?? []) as Array<unknown>).length >= 2) return { polls: i }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error('fewer than two system metric samples reached the server')
    }),
    { sink, source: () => fixedSource() }
  )
  if (E.isLeft(r)) t.fail(Errors.describeError(r.left))
  const runId = E.isRight(r) ? r.right.runId : ''
  const read = pythonRead(runId)
  // a machine with nvidia-smi adds the GPU metrics, checked in spec/system/nodeSystemMetrics.ts
  const hostNames = read.names.filter((n) => !n.startsWith('system/gpu_'))
  t.strictSame(hostNames, SystemMetrics.SYSTEM_METRIC_NAMES.map((n) => `system/${n}`).sort())
  t.ok(read.steps.length >= 2)
  t.strictSame(read.steps, read.steps.map((_, i) => i), 'steps 0, 1, 2, ... as MLflow\'s monitor logs them')
  const after = pythonRead(runId)
  t.strictSame(after.steps, read.steps, 'no sample after the run ended')
})
