// Reads a run back from a real MLflow server through its REST API, independently of the
// code under test (plain fetch, no charmory-track module), for exact comparisons.

import type { PointView, RunView as SinkRunView } from './behaviour.js'

/** The shared suite's view of a run, with the ids and name the server keeps. */
export interface RunView extends SinkRunView {
  readonly runId: string
  readonly experimentId: string
  readonly runName: string
}

type Json = Record<string, unknown>

export const restGet = async (base: string, path: string, headers: Record<string, string> = {}): Promise<Json> => {
  const r = await fetch(`${base}/api/2.0/${path}`, { headers })
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`)
  return (await r.json()) as Json
}

const value = (v: unknown): number => (typeof v === 'string' ? Number(v) : (v as number))

const history = async (base: string, runId: string, key: string, headers: Record<string, string>): Promise<Array<PointView>> => {
  const points: Array<PointView> = []
  let token: string | undefined
  do {
    const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '25000' })
    if (token !== undefined) q.set('page_token', token)
    const page = await restGet(base, `mlflow/metrics/get-history?${q}`, headers)
    for (const m of (page['metrics'] ?? []) as Array<Json>) {
      points.push({ value: value(m['value']), step: Number(m['step'] ?? 0), timestamp: Number(m['timestamp']) })
    }
    token = (page['next_page_token'] as string | undefined) || undefined
  } while (token !== undefined)
  return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
}

const artifacts = async (
  base: string,
  runId: string,
  root: string,
  headers: Record<string, string>,
  path = ''
): Promise<Record<string, Uint8Array>> => {
  const q = new URLSearchParams({ run_id: runId })
  if (path !== '') q.set('path', path)
  const listing = await restGet(base, `mlflow/artifacts/list?${q}`, headers)
  const out: Record<string, Uint8Array> = {}
  for (const f of (listing['files'] ?? []) as Array<Json>) {
    const p = f['path'] as string
    if (f['is_dir'] === true) Object.assign(out, await artifacts(base, runId, root, headers, p))
    else {
      const url = `${base}/api/2.0/mlflow-artifacts/artifacts/${root}/${p.split('/').map(encodeURIComponent).join('/')}`
      const r = await fetch(url, { headers })
      if (!r.ok) throw new Error(`GET artifact ${p}: ${r.status}`)
      out[p] = new Uint8Array(await r.arrayBuffer())
    }
  }
  return out
}

export const readRun = async (base: string, runId: string, headers: Record<string, string> = {}): Promise<RunView> => {
  const answer = await restGet(base, `mlflow/runs/get?run_id=${runId}`, headers)
  const run = answer['run'] as Json
  const info = run['info'] as Json
  const data = run['data'] as Json
  const kv = (xs: unknown) => Object.fromEntries(((xs ?? []) as Array<Json>).map((x) => [x['key'] as string, x['value'] as string]))
  // entries, not `metrics[key] =`: a metric named `__proto__` is read back like any other
  const histories: Array<readonly [string, Array<PointView>]> = []
  for (const m of (data['metrics'] ?? []) as Array<Json>) {
    const key = m['key'] as string
    histories.push([key, await history(base, runId, key, headers)])
  }
  const metrics: Record<string, Array<PointView>> = Object.fromEntries(histories)
  const root = String(info['artifact_uri']).replace(/^mlflow-artifacts:\/*/, '')
  return {
    runId: info['run_id'] as string,
    experimentId: info['experiment_id'] as string,
    runName: info['run_name'] as string,
    status: info['status'] as string,
    startTime: Number(info['start_time']),
    endTime: info['end_time'] === undefined ? undefined : Number(info['end_time']),
    params: kv(data['params']),
    metrics,
    tags: kv(data['tags']),
    artifacts: await artifacts(base, runId, root, headers)
  }
}

/** The ids of every run of an experiment, by its name. */
export const runIdsOf = async (base: string, experiment: string, headers: Record<string, string> = {}): Promise<Array<string>> => {
  const e = await restGet(base, `mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(experiment)}`, headers)
  const id = (e['experiment'] as Json)['experiment_id'] as string
  const r = await fetch(`${base}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [id], max_results: 1000 })
  })
  const runs = ((await r.json()) as Json)['runs'] as Array<Json> | undefined
  return (runs ?? []).map((x) => (x['info'] as Json)['run_id'] as string)
}
