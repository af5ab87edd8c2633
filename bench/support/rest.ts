// Plain HTTP to the MLflow server with node:http and keep-alive connections: the transport of
// the ceiling row (no library in the way) and of the bench's own bookkeeping (creating
// experiments and runs, counting what arrived).
import { Agent, request } from 'node:http'

export interface Rest {
  /** POSTs a prepared JSON body; resolves with the answer's text, rejects on a non-200. */
  readonly post: (path: string, body: string) => Promise<string>
  readonly get: (path: string) => Promise<string>
  readonly close: () => void
}

export const rest = (baseUrl: string, maxSockets = 16): Rest => {
  const agent = new Agent({ keepAlive: true, maxSockets })
  const send = (method: string, path: string, body: string | undefined): Promise<string> =>
    new Promise((ok, fail) => {
      const headers: Record<string, string | number> =
        body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
      const req = request(`${baseUrl}/api/2.0/${path}`, { method, agent, headers }, (res) => {
        const chunks: Array<Buffer> = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode === 200) ok(text)
          else fail(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`))
        })
        res.on('error', fail)
      })
      req.on('error', fail)
      req.end(body)
    })
  return { post: (path, body) => send('POST', path, body), get: (path) => send('GET', path, undefined), close: () => agent.destroy() }
}

/** The id of experiment `name`, created when missing. */
export const experimentId = async (r: Rest, name: string): Promise<string> => {
  try {
    const found = JSON.parse(await r.get(`mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`))
    return String(found.experiment.experiment_id)
  } catch {
    return String(JSON.parse(await r.post('mlflow/experiments/create', JSON.stringify({ name }))).experiment_id)
  }
}

export const createRun = async (r: Rest, experiment: string, runName: string): Promise<string> =>
  String(
    JSON.parse(
      await r.post('mlflow/runs/create', JSON.stringify({ experiment_id: experiment, run_name: runName, start_time: Date.now() }))
    ).run.info.run_id
  )

export const endRun = (r: Rest, runId: string): Promise<string> =>
  r.post('mlflow/runs/update', JSON.stringify({ run_id: runId, status: 'FINISHED', end_time: Date.now() }))

/** How many points of `key` the run holds: a check that a row did send everything. */
export const countPoints = async (r: Rest, runId: string, key: string): Promise<number> => {
  let count = 0
  let token = ''
  do {
    const q = new URLSearchParams({ run_id: runId, metric_key: key, max_results: '25000' })
    if (token !== '') q.set('page_token', token)
    const page = JSON.parse(await r.get(`mlflow/metrics/get-history?${q}`)) as { metrics?: Array<unknown>; next_page_token?: string }
    count += page.metrics?.length ?? 0
    token = page.next_page_token ?? ''
  } while (token !== '')
  return count
}

/** The status of a run: FINISHED once a row has ended it. */
export const runStatus = async (r: Rest, runId: string): Promise<string> =>
  String(JSON.parse(await r.get(`mlflow/runs/get?run_id=${runId}`)).run.info.status)
