// The browser harness, and what a page needs from a real MLflow server (the pinned 3.18):
// headless Chromium runs a page that speaks MLflow's REST API with the browser's own fetch
// (preflighted JSON POSTs, runs/log-batch, an artifact PUT through the artifact proxy) from
// the origin http://charmory.test:PORT. A server started with that origin in
// `--cors-allowed-origins` takes every request; a server without it answers the preflight
// with 400, so the browser sends nothing and the page sees a failed fetch.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { bundlePage, pageHostFor } from '../support/browser.js'
import { readRun, restGet } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'

type Step = { readonly step: string; readonly status?: number; readonly error?: string }
interface Outcome {
  readonly steps: Array<Step>
  readonly runId?: string
}

const host = await pageHostFor(t)
if (host === undefined) process.exit(0)
const bundle = await bundlePage('spec/support/pages/cors.ts')

t.test('a page whose origin the server allows logs a run and an artifact through CORS', async (t) => {
  const server = await serverFor(t, { corsAllowedOrigins: [host.origin] })
  if (server === undefined) return
  const experiment = `cors ${randomUUID().slice(0, 8)}`
  const outcome = (await host.run(bundle, { mlflow: server.url, experiment })) as Outcome
  t.strictSame(
    outcome.steps,
    [
      'mlflow/experiments/create',
      'mlflow/runs/create',
      'mlflow/runs/log-batch',
      'mlflow-artifacts PUT',
      'mlflow/runs/update',
      'mlflow/runs/get',
      'mlflow-artifacts GET'
    ].map((step) => ({ step, status: 200 })),
    'every request went through'
  )
  const view = await readRun(server.url, outcome.runId ?? '')
  t.equal(view.status, 'FINISHED')
  t.strictSame(view.params, { from: 'browser' })
  t.strictSame(view.metrics, { loss: [{ value: 0.5, step: 1, timestamp: 2 }] })
  t.equal(view.tags['page'], 'cors')
  t.strictSame(view.artifacts, { 'notes/hello.txt': new TextEncoder().encode('héllo from a page') })
})

t.test('a server that does not list the page\'s origin refuses it before anything is written', async (t) => {
  // the shared server runs without --cors-allowed-origins: loopback origins only
  const server = await serverFor(t)
  if (server === undefined) return
  const experiment = `cors refused ${randomUUID().slice(0, 8)}`
  const outcome = (await host.run(bundle, { mlflow: server.url, experiment })) as Outcome
  t.strictSame(outcome.steps, [{ step: 'mlflow/experiments/create', error: 'TypeError: Failed to fetch' }])
  await t.rejects(
    restGet(server.url, `mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`),
    /RESOURCE_DOES_NOT_EXIST/,
    'no experiment was created'
  )
})
