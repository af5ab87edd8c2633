// The browser platform, exercised on Node: it uses nothing but what a browser has (fetch,
// the console, Web Crypto, timers). The real browser: the browser specs of the package.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Platform, evaluate, memorySink, Mlflow, sinkFromEnv } from 'charmory-track'
import { browserFiles, browserPlatform } from '../../lib/platform/browser.js'
import { localSink, openSink, run, runPromise, syncStore } from '../../lib/runtime/browser.js'
import { tlsTarget } from '../../lib/mlflow/Config.js'
import { captureLogger } from '../support/behaviour.js'

t.test('no file system: reading a file is a FileError saying to log bytes', async (t) => {
  t.match(await browserFiles.readFile('/etc/hosts')(), E.left({ _tag: 'FileError', path: '/etc/hosts', message: /log the bytes/ }))
  t.match(await browserFiles.listFiles('/tmp')(), E.left({ _tag: 'FileError', path: '/tmp' }))
})

t.test('the transport is the global fetch; certificate files are a ConfigError', async (t) => {
  const config = Mlflow.configFor('https://mlflow.example:8443')
  if (E.isLeft(config)) return t.fail('config')
  const calls: Array<string> = []
  const fake = async (url: string): Promise<Response> => {
    calls.push(url)
    return new Response('{}', { status: 200 })
  }
  t.capture(globalThis, 'fetch', fake as typeof globalThis.fetch)
  const transport = await browserPlatform.transport(tlsTarget(config.right))()
  if (E.isLeft(transport)) return t.fail('transport')
  const answer = await transport.right.fetch('https://mlflow.example:8443/health', { method: 'GET', headers: {}, signal: new AbortController().signal })
  t.equal(answer.status, 200)
  t.strictSame(calls, ['https://mlflow.example:8443/health'], 'read when called, so a page may replace fetch first')
  transport.right.close()
  for (const [tls, variable] of [
    [{ caCertPath: '/ca.pem' }, 'tls.caCertPath'],
    [{ clientCertPath: '/client.pem' }, 'tls.clientCertPath']
  ] as const) {
    t.match(await browserPlatform.transport({ ...tlsTarget(config.right), ...tls })(), E.left({ _tag: 'ConfigError', variable }))
  }
})

t.test('no signals, no variables, no home, no local store, no system metrics', async (t) => {
  const off = browserPlatform.interrupts.onInterrupt(() => t.fail('no signal in a browser'))
  off()
  const exits: Array<number | undefined> = []
  t.capture(process, 'exit', ((code?: number) => void exits.push(code)) as never)
  const exitCode = process.exitCode
  t.equal(browserPlatform.interrupts.exit(1), undefined)
  t.strictSame(exits, [], 'exit ends nothing: a page has no process to end')
  t.equal(process.exitCode, exitCode, 'nor does it set an exit code')
  t.strictSame(browserPlatform.vars, {})
  t.equal(browserPlatform.home, undefined)
  t.equal(browserPlatform.systemSampler, undefined)
  t.match(browserPlatform.ids(), /^[0-9a-f]{32}$/)
  t.not(browserPlatform.ids(), browserPlatform.ids())
  t.ok(Math.abs(browserPlatform.clock.now() - Date.now()) < 1000)
})

t.test('the source is the page', async (t) => {
  t.strictSame(browserPlatform.source(), { user: 'browser', sourceName: 'browser', gitCommit: { _tag: 'None' } }, 'no page here')
  Object.defineProperty(globalThis, 'location', { value: { href: 'http://127.0.0.1:8080/eval.html' }, configurable: true })
  t.teardown(() => void Reflect.deleteProperty(globalThis, 'location'))
  t.equal(browserPlatform.source().sourceName, 'http://127.0.0.1:8080/eval.html')
})

t.test('timers fire and cancel', async (t) => {
  let ticks = 0
  await new Promise<void>((ok) => {
    const stop = browserPlatform.timers.every(1, () => {
      if (++ticks === 3) {
        stop()
        ok()
      }
    })
  })
  let fired = false
  const cancel = browserPlatform.timers.after(1, () => void (fired = true))
  cancel()
  await new Promise((ok) => setTimeout(ok, 10))
  t.equal(ticks, 3)
  t.notOk(fired)
  const before = Date.now()
  await browserPlatform.timers.sleep(5)
  t.ok(Date.now() >= before + 4, 'sleep waits')
})

t.test('run, runPromise and openSink on the browser platform', async (t) => {
  const sink = memorySink()
  const program = evaluate({ experiment: 'in-a-page' }, async (r) => {
    await r.logArtifact({ path: 'notes.txt', bytes: new TextEncoder().encode('bytes, not files') })
    return { accuracy: 0.5 }
  })
  t.ok(E.isRight(await run(program, { sink })))
  t.equal((await runPromise(program, { sink })).results.accuracy, 0.5)
  t.match(sink.snapshot().runs, [{ tags: { 'mlflow.user': 'browser' } }, {}])
  const { logger, warnings } = captureLogger()
  const fromEnv = await openSink(sinkFromEnv(), { logger })
  if (E.isLeft(fromEnv)) return t.fail('sinkFromEnv')
  t.equal(fromEnv.right.name, 'memory', 'no MLFLOW_TRACKING_URI and no local store: memory')
  t.match(warnings, [/in memory only/])
  await fromEnv.right.close()
  const answered: Platform.Fetch = async () => ({ status: 200, headers: { get: () => null }, text: async () => '{"experiment_id": "1"}', arrayBuffer: async () => new ArrayBuffer(0) })
  const server = await openSink(sinkFromEnv({ fetch: answered }), { vars: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } })
  if (E.isLeft(server)) return t.fail('server')
  t.equal(server.right.name, 'mlflow:http://127.0.0.1:5000', 'a server, and no journal without a local store')
  await server.right.close()
})

t.test('the console logger writes the same lines as Node\'s default logger', async (t) => {
  const lines = t.capture(console, 'warn', () => undefined)
  browserPlatform.logger.warn('param "a" overwritten')
  browserPlatform.logger.info('run 1 started')
  t.strictSame(lines().map((c) => c.args[0]), ['charmory-track: warning: param "a" overwritten', 'charmory-track: run 1 started'])
})

t.test('localSink and syncStore say that they are Node-only', async (t) => {
  const sink = localSink({ dir: '/tmp/x' })
  t.equal(sink.name, 'local (Node only)')
  t.match(await run(evaluate({ experiment: 'e' }, async () => ({ a: 1 })), { sink }), E.left({ _tag: 'ConfigError', variable: 'localSink', message: /Node-only/ }))
  t.match(await syncStore('/tmp/x', memorySink())(), E.left({ _tag: 'ConfigError', variable: 'syncStore', message: /Node-only/ }))
})
