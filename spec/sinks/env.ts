import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Errors, LocalStore, Platform, Runtime, Sink, evaluate, nodePlatform, openSink, run, sinkFromEnv, type FallbackMode } from 'charmory-track'
import { trackingTargetFromEnv } from '../../lib/runtime/SinkFromEnv.js'
import { nodeLocalStore, nodeServices } from '../../lib/runtime/node.js'
import { captureLogger } from '../support/behaviour.js'
import { left, right, tempDir, withVars } from '../support/local-store.js'

/** A transport that records every request and answers with `status` (or fails to connect). */
const recording = (status: number | 'refused') => {
  const requests: Array<{ url: string; headers: Record<string, string> }> = []
  const fetch: Platform.Fetch = async (url, init) => {
    requests.push({ url, headers: init.headers })
    if (status === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })
    return {
      status,
      headers: { get: () => null },
      text: async () => JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'down for maintenance' }),
      arrayBuffer: async () => new ArrayBuffer(0)
    }
  }
  return { fetch, requests }
}

/** Node's platform with these variables, home and working folder, and its local store. */
const platform = (vars: Record<string, string>, home = '/home/ada', cwd = '/work/somewhere'): Platform.Platform & { readonly localStore: Sink.LocalStoreSupport } => ({
  ...nodePlatform,
  vars,
  home,
  localStore: nodeLocalStore(vars, home, cwd)
})

/** A browser-like platform: no local store. */
const storeless = (vars: Record<string, string>, logger: Platform.Logger): Platform.Platform => ({ ...nodePlatform, vars, home: undefined, logger })

const targetOf = async (vars: Record<string, string>, home?: string, fallback?: boolean | FallbackMode) =>
  trackingTargetFromEnv(platform(vars, home), fallback === undefined ? {} : { fallback })()

/** The sink `sinkFromEnv` builds on `on` (and its local store, if it has one). */
const builtOn = async (on: Platform.Platform & { readonly localStore?: Sink.LocalStoreSupport }, fetch?: Platform.Fetch) => {
  const { localStore } = on
  return Runtime.runIn(on, localStore === undefined ? {} : { localStore: () => localStore }).openSink(sinkFromEnv(fetch === undefined ? {} : { fetch }))
}

const noRetries = { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }

t.test('without MLFLOW_TRACKING_URI, runs go to the local store in $ARMORY_HOME/mlruns', async (t) => {
  const home = tempDir(t)
  const sink = right(await builtOn(platform({}, home)))
  t.equal(sink.name, `local:${join(home, '.armory', 'mlruns')}`)
  const done = right(await run(evaluate({ experiment: 'e' }, () => ({ a: 1 })), { sink: sinkFromEnv(), vars: {}, home }))
  t.strictSame(right(await LocalStore.listRuns(join(home, '.armory', 'mlruns'))()).map((r) => r.runId), [done.runId])
  t.equal(right(await builtOn(platform({ MLFLOW_TRACKING_URI: '  ' }, home))).name, `local:${join(home, '.armory', 'mlruns')}`)
  t.equal(right(await builtOn(platform({ ARMORY_HOME: join(home, 'a') }, home))).name, `local:${join(home, 'a', 'mlruns')}`)
})

t.test('a file: URI or a plain path is the local store in that folder', async (t) => {
  const dirOf = async (uri: string) => {
    const target = right(await targetOf({ MLFLOW_TRACKING_URI: uri }))
    return target._tag === 'Local' ? target.dir : 'not local'
  }
  t.equal(await dirOf('file:///data/runs'), '/data/runs')
  t.equal(await dirOf('file:///data/my%20runs'), '/data/my runs')
  t.equal(await dirOf('file:runs'), '/work/somewhere/runs')
  t.equal(await dirOf('file:./my%20runs'), '/work/somewhere/my runs')
  t.equal(await dirOf('/data/runs'), '/data/runs')
  t.equal(await dirOf('mlruns'), '/work/somewhere/mlruns')
  t.equal(await dirOf('./a:b'), '/work/somewhere/a:b')
  for (const bad of ['file://otherhost/data', 'file:%E0%A4%A']) {
    t.match(left(await targetOf({ MLFLOW_TRACKING_URI: bad })), {
      _tag: 'ConfigError',
      variable: 'MLFLOW_TRACKING_URI',
      message: /file:\/\/\/absolute\/path/
    })
  }
})

t.test('an http(s) URI is the MLflow server, configured from the environment', async (t) => {
  const home = tempDir(t)
  const { fetch, requests } = recording(503)
  const vars = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999/', MLFLOW_TRACKING_TOKEN: 'tok-123', CHARMORY_TRACK_FALLBACK: 'off', ...noRetries }
  const sink = right(await builtOn(platform(vars, home), fetch))
  t.equal(sink.name, 'mlflow:http://127.0.0.1:5999')
  const result = await run(evaluate({ experiment: 'e' }, () => undefined), { sink })
  t.match(left(result), { _tag: 'HttpError', status: 503 }, 'no retry: the retry policy comes from the environment')
  t.equal(requests.length, 1)
  t.match(requests[0], { url: /^http:\/\/127\.0\.0\.1:5999\/api\/2\.0\/mlflow\/experiments\/get-by-name/, headers: { authorization: 'Bearer tok-123' } })
  await sink.close()

  mkdirSync(join(home, '.mlflow'))
  writeFileSync(join(home, '.mlflow', 'credentials'), '[mlflow]\nmlflow_tracking_username = ada\nmlflow_tracking_password = s3cret-pass\n')
  const basic = recording(503)
  const withFile = sinkFromEnv({ fetch: basic.fetch })
  await run(evaluate({ experiment: 'e' }, () => undefined), { sink: withFile, vars: { MLFLOW_TRACKING_URI: 'https://mlflow.example:8443', CHARMORY_TRACK_FALLBACK: 'off', ...noRetries }, home })
  t.equal(basic.requests[0]?.headers['authorization'], `Basic ${Buffer.from('ada:s3cret-pass').toString('base64')}`, 'the credentials file is read from home')
  t.match(right(await targetOf({ MLFLOW_TRACKING_URI: 'http://u:p@host' }, tempDir(t))), {
    config: { trackingUri: 'http://host', auth: { _tag: 'Basic', username: 'u', password: 'p' } }
  }, 'credentials in the URI are Basic auth')
})

t.test('any other store is a ConfigError from run that says to run a server on it, without echoing it', async (t) => {
  for (const uri of ['sqlite:///mlflow.db', 'postgresql://ada:hunter2@db/mlflow', 'mysql+pymysql://x', 'databricks', 'databricks://profile', 'databricks-uc', 'DataBricks']) {
    const e = left(await run(evaluate({ experiment: 'e' }, () => undefined), { sink: sinkFromEnv(), vars: { MLFLOW_TRACKING_URI: uri } }))
    t.match(e, { _tag: 'ConfigError', variable: 'MLFLOW_TRACKING_URI', message: /mlflow server --backend-store-uri/ }, uri)
    t.notOk(Errors.describeError(e).includes('hunter2'), 'no password in the message')
  }
  t.match(left(await targetOf({ MLFLOW_TRACKING_URI: 'sqlite:///x.db' })), { message: /a "sqlite:" store/ })
  t.match(left(await targetOf({ MLFLOW_TRACKING_URI: 'databricks' })), { message: /a Databricks store/ })
})

t.test('CHARMORY_TRACK_FALLBACK=local falls back to the local store when the server cannot be reached', async (t) => {
  const home = tempDir(t)
  const { fetch } = recording('refused')
  const { logger, warnings } = captureLogger()
  const vars = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999', CHARMORY_TRACK_FALLBACK: 'local', ...noRetries }
  const store = join(home, '.armory', 'mlruns')
  const sink = right(await builtOn({ ...platform(vars, home), logger }, fetch))
  t.equal(sink.name, `mlflow:http://127.0.0.1:5999 (falling back to local:${store})`)
  const done = right(await run(evaluate({ experiment: 'e' }, () => ({ a: 1 })), { sink, logger }))
  await sink.close()
  t.equal(warnings.length, 1)
  t.strictSame(right(await LocalStore.listRuns(store)()).map((r) => [r.runId, r.status, r.synced]), [[done.runId, 'FINISHED', false]])

  const target = async (extra: Record<string, string>, fallback?: boolean) => right(await targetOf({ MLFLOW_TRACKING_URI: 'http://h:1', ...extra }, home, fallback))
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'LOCAL ' }), { _tag: 'Mlflow', fallback: true, localDir: store })
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'off' }), { fallback: false })
  t.match(await target({ CHARMORY_TRACK_FALLBACK: '' }), { fallback: false })
  t.match(await target({}), { fallback: false })
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'off' }, true), { fallback: true }, 'the option wins')
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'local' }, false), { fallback: false })
  t.match(left(await targetOf({ MLFLOW_TRACKING_URI: 'http://h:1', CHARMORY_TRACK_FALLBACK: 'yes' })), {
    _tag: 'ConfigError',
    variable: 'CHARMORY_TRACK_FALLBACK',
    message: /journal .*, local .* or off/
  })
})

t.test('a server sink journals its runs in the local store unless CHARMORY_TRACK_FALLBACK=off', async (t) => {
  const home = tempDir(t)
  const store = join(home, '.armory', 'mlruns')
  const target = async (extra: Record<string, string>, fallback?: boolean | FallbackMode) =>
    right(await targetOf({ MLFLOW_TRACKING_URI: 'http://h:1', ...extra }, home, fallback))
  t.match(await target({}), { fallback: false, journal: true, localDir: store }, 'the default')
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'Journal' }), { fallback: false, journal: true })
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'local' }), { fallback: true, journal: true })
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'off' }), { fallback: false, journal: false })
  t.match(await target({}, 'off'), { fallback: false, journal: false }, 'the option wins')
  t.match(await target({ CHARMORY_TRACK_FALLBACK: 'off' }, 'journal'), { fallback: false, journal: true })
  t.match(await target({}, 'local'), { fallback: true, journal: true })
  t.match(await target({}, false), { journal: false })

  const nameFor = async (vars: Record<string, string>) => {
    const sink = right(await builtOn(platform({ MLFLOW_TRACKING_URI: 'http://h:1', ...vars }, home), recording(503).fetch))
    await sink.close()
    return sink.name
  }
  t.equal(await nameFor({}), `mlflow:http://h:1 (journaled in local:${store})`)
  t.equal(await nameFor({ CHARMORY_TRACK_FALLBACK: 'off' }), 'mlflow:http://h:1')
  t.equal(await nameFor({ CHARMORY_TRACK_FALLBACK: 'local' }), `mlflow:http://h:1 (falling back to local:${store})`, 'the fallback journals by itself')
})

t.test('without a local store (a browser): memory, with a warning, and a server sink without journal', async (t) => {
  const { logger, warnings } = captureLogger()
  const unset = right(await builtOn(storeless({}, logger)))
  t.equal(unset.name, 'memory')
  const folder = right(await builtOn(storeless({ MLFLOW_TRACKING_URI: 'file:///data/runs' }, logger)))
  t.equal(folder.name, 'memory')
  t.match(warnings, [/MLFLOW_TRACKING_URI is not set .* in memory only/, /names a local folder .* in memory only/])
  t.match(right(await trackingTargetFromEnv(storeless({ MLFLOW_TRACKING_URI: 'http://h:1', CHARMORY_TRACK_FALLBACK: 'local' }, logger))()), {
    _tag: 'Mlflow',
    fallback: false,
    journal: false,
    localDir: undefined
  })
  const server = right(await builtOn(storeless({ MLFLOW_TRACKING_URI: 'http://h:1', CHARMORY_TRACK_FALLBACK: 'local' }, logger), recording(503).fetch))
  t.equal(server.name, 'mlflow:http://h:1')
  await server.close()
  await unset.close()
})

t.test('by default the process environment, home and working directory are read', async (t) => {
  withVars(t, { MLFLOW_TRACKING_URI: 'file:some-runs' })
  const node = () => ({ ...nodePlatform, localStore: nodeServices.localStore!(nodePlatform) })
  t.strictSame(await trackingTargetFromEnv(node())(), E.right({ _tag: 'Local', dir: resolve('some-runs') }))
  t.equal(right(await openSink(sinkFromEnv())).name, `local:${resolve('some-runs')}`)
  delete process.env['MLFLOW_TRACKING_URI']
  const home = process.env['ARMORY_HOME'] === undefined ? join(homedir(), '.armory') : resolve(process.env['ARMORY_HOME'])
  t.strictSame(await trackingTargetFromEnv(node())(), E.right({ _tag: 'Local', dir: join(home, 'mlruns') }))
})
