// In a real browser against a real MLflow server: headless Chromium runs a page
// (spec/support/pages/mlflow.ts) that logs params, a metric history and a text artifact
// through `mlflowSink` with the browser's fetch, from an origin the server was told to allow
// (`--cors-allowed-origins`); MLflow's own Python client then reads exactly that back.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { VERSION } from 'charmory-track'
import { browserEntryFor, bundlePage, pageHostFor } from '../support/browser.js'
import { childEnv } from '../support/local-store.js'
import { mlflowExecutable, serverFor } from '../support/mlflow-server.js'

if (!browserEntryFor(t)) process.exit(0)
const host = await pageHostFor(t)
if (host === undefined) process.exit(0)
const server = await serverFor(t, { corsAllowedOrigins: [host.origin] })
if (server === undefined) process.exit(0)

interface Read {
  readonly status: string
  readonly runName: string
  readonly experiment: string
  readonly params: Record<string, string>
  readonly metrics: Record<string, Array<[number, number]>>
  readonly tags: Record<string, string>
  readonly artifacts: Array<string>
  readonly summary: string
}

/** The run as MLflow's Python client sees it: status, params, every metric's history, artifacts. */
const pythonRead = (runId: string): Read => {
  const dir = mkdtempSync(join(tmpdir(), 'charmory-browser-read-'))
  try {
    const script = `
import json, os, sys
from mlflow import MlflowClient
c = MlflowClient()
run = c.get_run(sys.argv[1])
def walk(path=None):
    for a in c.list_artifacts(run.info.run_id, path):
        yield from (walk(a.path) if a.is_dir else [a.path])
summary = c.download_artifacts(run.info.run_id, "notes/summary.txt", sys.argv[2])
print(json.dumps({
    "status": run.info.status,
    "runName": run.info.run_name,
    "experiment": c.get_experiment(run.info.experiment_id).name,
    "params": run.data.params,
    "metrics": {k: sorted([m.step, m.value] for m in c.get_metric_history(run.info.run_id, k)) for k in run.data.metrics},
    "tags": run.data.tags,
    "artifacts": sorted(walk()),
    "summary": open(summary, encoding="utf-8").read(),
}))
`
    const text = execFileSync(join(dirname(mlflowExecutable()!), 'python'), ['-c', script, runId, dir], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: childEnv({ MLFLOW_TRACKING_URI: server.url })
    })
    return JSON.parse(text) as Read
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('a page logs an evaluation into MLflow with the browser\'s fetch; MLflow\'s client reads exactly that', async (t) => {
  const experiment = `browser ${randomUUID().slice(0, 8)}`
  const outcome = (await host.run(await bundlePage('spec/support/pages/mlflow.ts'), { mlflow: server.url, experiment })) as {
    runId?: string
    results?: unknown
    error?: string
    requests: Array<string>
  }
  t.equal(outcome.error, undefined, 'the run succeeded in the page')
  t.strictSame(outcome.results, { accuracy: 0.875 })
  t.ok(outcome.requests.length > 0, 'the page itself spoke to the server')
  t.strictSame([...new Set(outcome.requests)], ['fetch'], 'with the browser\'s fetch')

  const read = pythonRead(outcome.runId ?? '')
  t.equal(read.status, 'FINISHED')
  t.equal(read.runName, 'in-chromium')
  t.equal(read.experiment, experiment)
  t.strictSame(read.params, {
    model: 'resnet18',
    'optimizer.lr': '0.001',
    'optimizer.momentum': '0.9',
    'charmory-track.version': VERSION
  })
  t.strictSame(read.metrics, {
    loss: [
      [0, 0.9],
      [1, 0.5],
      [2, 0.25],
      [3, 0.125]
    ],
    accuracy: [[0, 0.875]]
  })
  t.equal(read.tags['page'], 'mlflow')
  t.equal(read.tags['mlflow.runName'], 'in-chromium')
  t.strictSame(read.artifacts, ['notes/summary.txt', 'results.json'])
  t.equal(read.summary, 'written by a page in Chromium ✓\n')
})
