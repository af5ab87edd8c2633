// A `fetch` that answers from a script, for the MLflow sink's unit specs: what a real server
// answers only in unusual cases (creation races, fields left out, failing lookups).
import { Platform } from 'charmory-track'

/** The answer to one request, or undefined for `200 {}`. `path` is relative to `/api/2.0/`. */
export type Route = (
  method: string,
  path: string,
  body: unknown,
  query: URLSearchParams
) => { status: number; body: unknown } | undefined

/**
 * The transport and what it was asked: `calls` as `METHOD path`, `requests` with the query
 * string and the JSON body too.
 */
export const scriptedTransport = (route: Route) => {
  const calls: Array<string> = []
  const requests: Array<string> = []
  const fetch: Platform.Fetch = async (url, init) => {
    const u = new URL(url)
    const path = u.pathname.replace('/api/2.0/', '')
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined
    calls.push(`${init.method} ${path}`)
    requests.push(`${init.method} ${path}${u.search}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`)
    const answer = route(init.method, path, body, u.searchParams) ?? { status: 200, body: {} }
    const text = JSON.stringify(answer.body)
    return {
      status: answer.status,
      headers: { get: () => null },
      text: async () => text,
      arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer
    }
  }
  return { fetch, calls, requests }
}
