// A page that speaks MLflow's REST API with nothing but the browser's fetch, the way
// mlflowSink does: JSON POSTs (a CORS preflight each, for their content type), a run's
// log-batch, an artifact PUT through the server's artifact proxy (preflighted too), a GET.
// Its outcome is each request's status, or the browser's error when CORS stopped it.
export {}

interface Input {
  readonly mlflow: string
  readonly experiment: string
}
type Step = { readonly step: string; readonly status: number } | { readonly step: string; readonly error: string }

const input = (window as unknown as { __input: Input }).__input
const api = `${input.mlflow}/api/2.0`

const call = async (steps: Array<Step>, step: string, url: string, init: RequestInit): Promise<unknown> => {
  try {
    const r = await fetch(url, init)
    steps.push({ step, status: r.status })
    const type = r.headers.get('content-type') ?? ''
    return type.includes('json') ? await r.json() : await r.text()
  } catch (e) {
    steps.push({ step, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) })
    return undefined
  }
}

const post = (steps: Array<Step>, path: string, body: object): Promise<unknown> =>
  call(steps, path, `${api}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })

const main = async (): Promise<{ steps: Array<Step>; runId?: string }> => {
  const steps: Array<Step> = []
  const created = (await post(steps, 'mlflow/experiments/create', { name: input.experiment })) as
    | { experiment_id?: string }
    | undefined
  if (created?.experiment_id === undefined) return { steps }
  const started = (await post(steps, 'mlflow/runs/create', { experiment_id: created.experiment_id, start_time: 1 })) as {
    run: { info: { run_id: string; artifact_uri: string } }
  }
  const { run_id: runId, artifact_uri: artifactUri } = started.run.info
  await post(steps, 'mlflow/runs/log-batch', {
    run_id: runId,
    params: [{ key: 'from', value: 'browser' }],
    metrics: [{ key: 'loss', value: 0.5, timestamp: 2, step: 1 }],
    tags: [{ key: 'page', value: 'cors' }]
  })
  const root = artifactUri.replace(/^mlflow-artifacts:\/*/, '')
  await call(steps, 'mlflow-artifacts PUT', `${api}/mlflow-artifacts/artifacts/${root}/notes/hello.txt`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: new TextEncoder().encode('héllo from a page')
  })
  await post(steps, 'mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: 3 })
  await call(steps, 'mlflow/runs/get', `${api}/mlflow/runs/get?run_id=${runId}`, {})
  await call(steps, 'mlflow-artifacts GET', `${api}/mlflow-artifacts/artifacts/${root}/notes/hello.txt`, {})
  return { steps, runId }
}

;(window as unknown as { __result: Promise<unknown> }).__result = main()
