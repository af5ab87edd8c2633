// A real MLflow server with its basic-auth app: the right credentials work, from the
// environment and from the credentials file; wrong ones are a typed unauthenticated error;
// the password never appears in anything this spec's run prints or returns.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Errors, LocalStore, Platform, evaluate, localSink, mlflowSink, run, sinkFromEnv } from 'charmory-track'
import { syncCommand } from '../../lib/cli/sync.js'
import { testIo } from '../support/local-cli.js'
import { right } from '../support/local-store.js'
import { serverFor } from '../support/mlflow-server.js'
import { readRun } from '../support/mlflow-read.js'
import { built } from '../support/sinks.js'

const USER = 'admin'
const PASSWORD = 'correct-horse-battery-staple-42'

// Everything this process writes, to check at the end that the password is nowhere.
const printed: Array<string> = []
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream)
  stream.write = ((chunk: string | Uint8Array, ...rest: Array<never>) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return write(chunk, ...rest)
  }) as typeof stream.write
}

const server = await serverFor(t, { auth: { username: USER, password: PASSWORD } })
if (server === undefined) process.exit(0)

const logged: Array<string> = []
const logger: Platform.Logger = { warn: (m) => void logged.push(m), info: (m) => void logged.push(m) }
const basic = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` }
const T0 = 1_770_000_000_000

const home = (credentials?: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'charmory-home-'))
  if (credentials !== undefined) {
    mkdirSync(join(dir, '.mlflow'))
    writeFileSync(join(dir, '.mlflow', 'credentials'), credentials)
  }
  return dir
}

const evaluateWith = async (env: Record<string, string>, homeDir: string) => {
  const vars = { MLFLOW_TRACKING_URI: server.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', CHARMORY_TRACK_FALLBACK: 'off', ...env }
  return run(evaluate({ experiment: 'secured' }, async () => ({ ok: 1 })), { sink: sinkFromEnv(), vars, home: homeDir, logger, clock: { now: () => T0 } })
}

const results: Array<unknown> = []

t.test('credentials from the environment', async (t) => {
  const r = await evaluateWith({ MLFLOW_TRACKING_USERNAME: USER, MLFLOW_TRACKING_PASSWORD: PASSWORD }, home())
  results.push(r)
  t.ok(E.isRight(r))
  if (E.isRight(r)) t.equal((await readRun(server.url, r.right.runId, basic)).status, 'FINISHED')
})

t.test('credentials from ~/.mlflow/credentials', async (t) => {
  const r = await evaluateWith({}, home(`[mlflow]\nmlflow_tracking_username = ${USER}\nmlflow_tracking_password = ${PASSWORD}\n`))
  results.push(r)
  t.ok(E.isRight(r))
})

t.test('the environment wins over the file, field by field', async (t) => {
  const r = await evaluateWith(
    { MLFLOW_TRACKING_PASSWORD: PASSWORD },
    home(`[mlflow]\nmlflow_tracking_username = ${USER}\nmlflow_tracking_password = stale-password\n`)
  )
  results.push(r)
  t.ok(E.isRight(r))
})

t.test('Basic wins when a token is also set', async (t) => {
  const r = await evaluateWith(
    { MLFLOW_TRACKING_USERNAME: USER, MLFLOW_TRACKING_PASSWORD: PASSWORD, MLFLOW_TRACKING_TOKEN: 'not-a-token' },
    home()
  )
  results.push(r)
  t.ok(E.isRight(r))
})

t.test('a wrong password is a typed unauthenticated error', async (t) => {
  const r = await evaluateWith({ MLFLOW_TRACKING_USERNAME: USER, MLFLOW_TRACKING_PASSWORD: `${PASSWORD}-wrong` }, home())
  results.push(r)
  t.match(r, { _tag: 'Left', left: { _tag: 'HttpError', status: 401, errorCode: 'UNAUTHENTICATED' } })
  if (E.isLeft(r)) t.notMatch(Errors.describeError(r.left), PASSWORD)
})

t.test('no credentials at all is unauthenticated too', async (t) => {
  const r = await evaluateWith({}, home())
  results.push(r)
  t.match(r, { _tag: 'Left', left: { _tag: 'HttpError', status: 401 } })
})

t.test('credentials in the address are Basic auth, for the sink and for `sync --to`', async (t) => {
  const withCredentials = server.url.replace('http://', `http://${USER}:${PASSWORD}@`)
  const sink = await built(mlflowSink(withCredentials), { logger })
  t.teardown(() => sink.close())
  t.equal(sink.name, `mlflow:${server.url}`)
  logged.push(sink.name)
  const r = await run(evaluate({ experiment: 'secured by address' }, async () => ({ ok: 1 })), { sink, logger, clock: { now: () => T0 } })
  results.push(r)
  t.ok(E.isRight(r))
  if (E.isRight(r)) t.equal((await readRun(server.url, r.right.runId, basic)).status, 'FINISHED')
  const wrong = await built(mlflowSink(server.url.replace('http://', `http://${USER}:${PASSWORD}-wrong@`)), { logger })
  t.teardown(() => wrong.close())
  const refused = await run(evaluate({ experiment: 'secured by address' }, async () => ({ ok: 1 })), { sink: wrong, logger })
  results.push(refused)
  t.match(refused, { left: { _tag: 'HttpError', status: 401 } })

  const io = testIo(t)
  const store = join(io.home, '.armory', 'mlruns')
  right(await run(evaluate({ experiment: 'synced with credentials' }, async () => ({ ok: 1 })), { sink: localSink({ dir: store }) }))
  const tty = { ...io, stderr: { ...io.stderr, isTTY: true } }
  t.equal(await syncCommand(['--to', withCredentials], tty), 0, io.err())
  t.match(io.out(), new RegExp(`^synced 1 of 1 run to ${server.url}: 1 param, 1 metric point, \\d+ tags, 1 artifact\n$`))
  const remoteId = right(await LocalStore.listRuns(store)())[0]?.sync[0]?.remoteRunId ?? ''
  t.equal((await readRun(server.url, remoteId, basic)).status, 'FINISHED')
  logged.push(io.out(), io.err())
  const bad = testIo(t)
  t.equal(await syncCommand(['--to', withCredentials.replace('http://', 'ftp://')], bad), 2)
  t.equal(bad.err(), 'charmory-track sync: --to: expected an http(s):// address, not a "ftp:" one\n')
})

t.test('the password appears in no error, log line or output', async (t) => {
  const everything = [JSON.stringify(results), ...logged, ...printed].join('\n')
  t.notOk(everything.includes(PASSWORD), 'password absent')
  t.notOk(everything.includes(Buffer.from(`${USER}:${PASSWORD}`).toString('base64')), 'encoded credentials absent')
  t.ok(printed.length > 0, 'the output was captured')
})
