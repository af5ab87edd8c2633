// The HTTP layer with a scripted transport: decoding failures, odd error bodies and the retry
// schedule are faults a real server does not produce on demand (the integration specs cover
// the same policy against a real one through a proxy).
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as io from 'io-ts/lib/index.js'
import { Errors, Platform, Mlflow } from 'charmory-track'
import { backoffMs, failingPath, httpClient, redact } from '../../lib/mlflow/Http.js'

type Answer = { status: number; body?: string; headers?: Record<string, string> } | Error

const scripted = (answers: Array<Answer>) => {
  const calls: Array<{ url: string; method: string; headers: Record<string, string>; body?: string | Uint8Array }> = []
  const fetch: Platform.Fetch = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, ...(init.body === undefined ? {} : { body: init.body }) })
    const a = answers.shift() ?? { status: 200, body: '{}' }
    if (a instanceof Error) throw a
    const bytes = new TextEncoder().encode(a.body ?? '')
    return {
      status: a.status,
      headers: { get: (name: string) => a.headers?.[name.toLowerCase()] ?? null },
      text: async () => a.body ?? '',
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    }
  }
  return { fetch, calls }
}

const sleeps: Array<number> = []
/** A platform whose timers record each wait and fire at once, whose jitter is always half. */
const instant = {
  clock: { now: () => Date.now() },
  random: () => 0.5,
  timers: {
    after: () => () => undefined,
    every: () => () => undefined,
    sleep: async (ms: number) => void sleeps.push(ms)
  }
}
const client = (answers: Array<Answer>, auth: Parameters<typeof httpClient>[0]['auth'] = { _tag: 'None' }, retries = 3) => {
  const s = scripted(answers)
  sleeps.length = 0
  const retriesSeen: Array<string> = []
  const http = httpClient({
    baseUri: 'http://mlflow.test',
    auth,
    retry: { ...Mlflow.defaultRetryPolicy, maxRetries: retries, backoffFactorMs: 100, backoffJitterMs: 10 },
    fetch: s.fetch,
    platform: instant,
    onRetry: (endpoint, n, reason) => void retriesSeen.push(`${endpoint} #${n}: ${reason}`)
  })
  return { http, calls: s.calls, retriesSeen }
}

const Answer = io.type({ run: io.type({ info: io.type({ run_id: io.string }) }) })

t.test('GET sends the payload as a query; POST as JSON; answers are decoded', async (t) => {
  const { http, calls } = client([
    { status: 200, body: '{"run":{"info":{"run_id":"abc"}}}' },
    { status: 200, body: '' }
  ])
  t.strictSame(await http.json('GET', 'mlflow/runs/get', { run_id: 'a b', n: 2 }, Answer)(), E.right({ run: { info: { run_id: 'abc' } } }))
  t.equal(calls[0]?.url, 'http://mlflow.test/api/2.0/mlflow/runs/get?run_id=a+b&n=2')
  t.equal(calls[0]?.body, undefined)
  t.strictSame(await http.json('POST', 'mlflow/runs/update', { run_id: 'x' }, io.UnknownRecord)(), E.right({}), 'an empty body reads as {}')
  t.equal(calls[1]?.body, '{"run_id":"x"}')
  t.equal(calls[1]?.headers['content-type'], 'application/json')
})

t.test('an answer that is not JSON, or not of the expected shape, is a DecodeError naming the field', async (t) => {
  const { http } = client([
    { status: 200, body: '<html>' },
    { status: 200, body: '{"run":{"info":{"run_id":7}}}' }
  ])
  t.match(await http.json('GET', 'mlflow/runs/get', undefined, Answer)(), {
    left: { _tag: 'DecodeError', source: 'GET mlflow/runs/get', path: '(root)' }
  })
  t.match(await http.json('POST', 'mlflow/runs/get', undefined, Answer)(), {
    left: { _tag: 'DecodeError', path: 'run.info.run_id' }
  })
  t.equal(failingPath([]), '(root)')
})

t.test('error answers: MLflow JSON, plain text from the auth layer, empty, unknown status', async (t) => {
  const { http } = client([
    { status: 400, body: '{"error_code":"INVALID_PARAMETER_VALUE","message":"bad key"}' },
    { status: 401, body: 'You are not authenticated.\n Please see docs.' },
    { status: 403, body: 'Invalid Host header' },
    { status: 418, body: '' }
  ])
  const q = () => http.json('POST', 'mlflow/runs/log-batch', {}, io.UnknownRecord)()
  t.match(await q(), { left: { _tag: 'HttpError', status: 400, errorCode: 'INVALID_PARAMETER_VALUE', message: 'bad key', endpoint: 'POST api/2.0/mlflow/runs/log-batch' } })
  t.match(await q(), { left: { status: 401, errorCode: 'UNAUTHENTICATED', message: 'You are not authenticated. Please see docs.' } })
  t.match(await q(), { left: { status: 403, errorCode: 'PERMISSION_DENIED', message: 'Invalid Host header' } })
  t.match(await q(), { left: { status: 418, errorCode: 'HTTP_418', message: '(empty answer)' } })
})

t.test('retryable statuses are retried with backoff, re-sending the same request', async (t) => {
  const { http, calls, retriesSeen } = client([{ status: 503 }, { status: 502 }, { status: 429, headers: { 'retry-after': '3' } }, { status: 200, body: '{}' }])
  t.ok(E.isRight(await http.json('POST', 'mlflow/runs/log-batch', { a: 1 }, io.UnknownRecord)()))
  t.equal(calls.length, 4)
  t.ok(calls.every((c) => c.body === '{"a":1}'))
  t.strictSame(sleeps, [5, 205, 3000], 'no wait after the first failure, then factor*2^(n-1) + jitter; Retry-After as given')
  t.equal(retriesSeen.length, 3)
  t.match(retriesSeen[0], /POST api\/2.0\/mlflow\/runs\/log-batch #1: .*503/)
})

t.test("MLflow's 400 for a request that waited too long for a database connection is retried", async (t) => {
  const pool = '{"error_code":"BAD_REQUEST","message":"QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"}'
  const { http, calls } = client([{ status: 400, body: pool }, { status: 200, body: '{}' }])
  t.ok(E.isRight(await http.json('POST', 'mlflow/runs/log-batch', { a: 1 }, io.UnknownRecord)()))
  t.equal(calls.length, 2)
})

t.test('other 4xx fail at once; retries stop after maxRetries with the last error', async (t) => {
  const once = client([{ status: 404, body: '{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no run"}' }])
  t.match(await once.http.json('GET', 'mlflow/runs/get', {}, io.UnknownRecord)(), { left: { status: 404 } })
  t.equal(once.calls.length, 1)
  const tired = client([{ status: 500 }, { status: 500 }, { status: 504, body: 'gateway' }], { _tag: 'None' }, 2)
  t.match(await tired.http.json('GET', 'mlflow/runs/get', {}, io.UnknownRecord)(), { left: { status: 504, message: 'gateway' } })
  t.equal(tired.calls.length, 3)
})

t.test('network errors and timeouts are retried, and reported as NetworkError', async (t) => {
  const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })
  const { http, calls } = client([new Error('socket hang up'), timeout, timeout, timeout], { _tag: 'None' }, 3)
  const r = await http.json('GET', 'mlflow/runs/get', {}, io.UnknownRecord)()
  t.equal(calls.length, 4)
  t.match(r, { left: { _tag: 'NetworkError', endpoint: 'GET api/2.0/mlflow/runs/get', message: /no answer within 120000 ms/ } })
})

t.test('credentials go in the Authorization header and never into an error', async (t) => {
  const auth = { _tag: 'Basic' as const, username: 'ann', password: 's3cret-pw' }
  const token = Buffer.from('ann:s3cret-pw').toString('base64')
  const { http, calls } = client(
    [new Error('connect failed for ann:s3cret-pw'), { status: 401, body: `bad credentials s3cret-pw ${token}` }],
    auth,
    1
  )
  const r = await http.json('GET', 'mlflow/experiments/get-by-name', {}, io.UnknownRecord)()
  t.equal(calls[0]?.headers['authorization'], `Basic ${token}`)
  t.ok(E.isLeft(r))
  const text = E.isLeft(r) ? JSON.stringify(r.left) + Errors.describeError(r.left) : ''
  t.notMatch(text, /s3cret-pw/)
  t.notMatch(text, token)
  const bearer = client([{ status: 200, body: '{}' }], { _tag: 'Bearer', token: 'tkn' })
  await bearer.http.json('GET', 'x', undefined, io.UnknownRecord)()
  t.equal(bearer.calls[0]?.headers['authorization'], 'Bearer tkn')
  t.equal(redact({ _tag: 'Bearer', token: 'tkn' }, 'a tkn b'), 'a *** b')
  t.equal(redact({ _tag: 'None' }, 'a tkn b'), 'a tkn b')
  t.equal(redact({ _tag: 'Basic', username: 'u', password: '' }, 'u: b'), 'u: b', 'an empty secret redacts nothing')
})

t.test('put and get move raw bytes', async (t) => {
  const { http, calls } = client([{ status: 200, body: '' }, { status: 200, body: 'hello' }, { status: 500 }, { status: 400 }])
  t.ok(E.isRight(await http.put('mlflow-artifacts/artifacts/1/r/artifacts/a.bin', Uint8Array.of(1, 2))()))
  t.equal(calls[0]?.method, 'PUT')
  t.equal(calls[0]?.headers['content-type'], 'application/octet-stream')
  t.strictSame([...((await http.get('x')()) as E.Right<Uint8Array>).right], [...new TextEncoder().encode('hello')])
  t.equal(calls[1]?.headers['content-type'], undefined)
  t.match(await http.put('y', Uint8Array.of())(), { left: { status: 400 } })
})

t.test('backoff: capped, with jitter, Retry-After in seconds or as a date', async (t) => {
  const clock = { now: () => Date.now() }
  const policy = { ...Mlflow.defaultRetryPolicy, backoffFactorMs: 2000, backoffJitterMs: 1000, maxBackoffMs: 120000 }
  t.equal(backoffMs(policy, 1, () => 0, null, clock), 0)
  t.equal(backoffMs(policy, 2, () => 0, null, clock), 4000)
  t.equal(backoffMs(policy, 3, () => 0.5, null, clock), 8500)
  t.equal(backoffMs(policy, 20, () => 0, null, clock), 120000)
  t.equal(backoffMs(policy, 1, () => 0, '7', clock), 7000)
  t.equal(backoffMs(policy, 1, () => 0, '100000', clock), 120000)
  const inFuture = new Date(Date.now() + 60_000).toUTCString()
  const wait = backoffMs(policy, 1, () => 0, inFuture, clock)
  t.ok(wait > 50_000 && wait <= 60_000, 'an HTTP date is a moment to wait for')
  t.equal(backoffMs(policy, 1, () => 0, new Date(0).toUTCString(), clock), 0, 'a date in the past means now')
  t.equal(backoffMs(policy, 2, () => 0, 'soon', clock), 4000, 'an unreadable Retry-After falls back to the schedule')
})

t.test('an answer of the wrong kind at its root, and a transport that throws a non-Error', async (t) => {
  const { http } = client([{ status: 200, body: '"just text"' }])
  t.match(await http.json('GET', 'mlflow/runs/get', undefined, Answer)(), { left: { _tag: 'DecodeError', path: '(root)' } })
  const odd: Platform.Fetch = async () => {
    throw 'socket closed by peer'
  }
  const raw = httpClient({
    baseUri: 'http://mlflow.test',
    auth: { _tag: 'None' },
    retry: { ...Mlflow.defaultRetryPolicy, maxRetries: 0 },
    fetch: odd,
    platform: instant,
    onRetry: () => undefined
  })
  t.match(await raw.get('x')(), { left: { _tag: 'NetworkError', message: 'socket closed by peer' } })
})

t.test('a refused connection is retried refusedRetries times; other network errors maxRetries times', async (t) => {
  const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
  const undiciRefused = (): Error => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
  const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  const attempts = async (answers: Array<Answer>, refusedRetries: number | undefined): Promise<number> => {
    const s = scripted(answers)
    const http = httpClient({
      baseUri: 'http://mlflow.test',
      auth: { _tag: 'None' },
      retry: { ...Mlflow.defaultRetryPolicy, maxRetries: 5, ...(refusedRetries === undefined ? {} : { refusedRetries }) },
      fetch: s.fetch,
      platform: instant,
      onRetry: () => undefined
    })
    t.match(await http.json('GET', 'mlflow/experiments/get', undefined, io.UnknownRecord)(), { left: { _tag: 'NetworkError' } })
    return s.calls.length
  }
  t.equal(await attempts(Array.from({ length: 9 }, refused), 1), 2, "node-fetch's refusal: 1 retry")
  t.equal(await attempts(Array.from({ length: 9 }, undiciRefused), 0), 1, "undici's refusal: no retry")
  t.equal(await attempts(Array.from({ length: 9 }, refused), undefined), 6, 'without refusedRetries, maxRetries')
  t.equal(await attempts(Array.from({ length: 9 }, reset), 1), 6, 'a dropped connection keeps maxRetries')
})
