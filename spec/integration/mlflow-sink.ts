// The MLflow sink against a real MLflow server: what a pipeline writes is read back through
// the REST API (independently of the sink) and compared exactly.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Errors, Platform, Runtime, evaluate, fromRecorded, mlflowSink, reopen, run, trackParam, Track, withParams } from 'charmory-track'
import { serverFor } from '../support/mlflow-server.js'
import { readRun, restGet } from '../support/mlflow-read.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const T0 = 1_750_000_000_000
const fixedClock = { now: () => T0 }
const warnings: Array<string> = []
const logger: Platform.Logger = { warn: (m) => void warnings.push(m), info: () => undefined }
const source: Runtime.Env['source'] = () => ({ user: 'tester', sourceName: 'spec.ts', gitCommit: { _tag: 'Some', value: 'a'.repeat(40) } })
// the REST sink itself; the journal `run` adds by default has its own specs
const sink = await built(mlflowSink(server.url, { journal: false }), { logger })
t.teardown(() => sink.close())
const env = { sink, clock: fixedClock, logger, source }

const files = mkdtempSync(join(tmpdir(), 'charmory-artifacts-'))
writeFileSync(join(files, 'model.bin'), Uint8Array.from({ length: 256 }, (_, i) => i))
mkdirSync(join(files, 'plots/deep'), { recursive: true })
writeFileSync(join(files, 'plots/roc.txt'), 'roc')
writeFileSync(join(files, 'plots/deep/pr.txt'), 'pr curve')

const expectRight = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${JSON.stringify(r.left)}`)
  return r.right
}

t.test('a whole evaluation arrives exactly as written', async (t) => {
  const loadModel = (o: { name: string; optimizer: { lr: number; betas: Array<number> } }) => `model:${o.name}`
  const program = pipe(
    fromRecorded(withParams(loadModel)({ name: 'resnet', optimizer: { lr: 0.01, betas: [0.9, 0.999] } })),
    Track.flatMap(() => trackParam('batch_size', 16)),
    Track.flatMap(() =>
      evaluate(
        { experiment: 'roundtrip', runName: 'rt-1', description: 'round trip', tags: { team: 'red' } },
        async (r) => {
          for (let step = 0; step < 500; step++) {
            for (const k of ['loss', 'acc', 'lr', 'grad/norm', 'time']) {
              await r.logMetric(k, step / 7 + k.length, { step, timestamp: T0 + step })
            }
          }
          await r.logMetrics({ final_a: 1, final_b: 2 }, { step: 9 })
          await r.logMetric('odd', NaN, { step: 1 })
          await r.logMetric('odd', Infinity, { step: 2 })
          await r.logMetric('odd', -Infinity, { step: 3 })
          await r.setTag('stage', 'eval')
          await r.logArtifact(join(files, 'model.bin'), 'models')
          await r.logArtifact({ path: 'notes/readme.txt', text: 'héllo' })
          await r.logArtifact({ path: 'raw.bin', bytes: Uint8Array.of(0, 255, 10) })
          await r.logArtifacts(join(files, 'plots'), 'figures')
          return { accuracy: 0.75, per_class: [0.5, 0.25], chain: { attack: { success: 1 } } }
        }
      )
    )
  )
  const { runId, experimentId } = expectRight(await run(program, env))
  const view = await readRun(server.url, runId)
  t.equal(view.experimentId, experimentId)
  t.equal(view.status, 'FINISHED')
  t.equal(view.startTime, T0)
  t.equal(view.endTime, T0)
  t.equal(view.runName, 'rt-1')
  t.same(view.params, {
    'loadModel.name': 'resnet',
    'loadModel.optimizer.lr': '0.01',
    'loadModel.optimizer.betas': '[0.9,0.999]',
    batch_size: '16',
    'charmory-track.version': '0.1.0'
  })
  for (const k of ['loss', 'acc', 'lr', 'grad/norm', 'time']) {
    t.strictSame(
      view.metrics[k],
      Array.from({ length: 500 }, (_, step) => ({ value: step / 7 + k.length, step, timestamp: T0 + step })),
      `every point of ${k}`
    )
  }
  t.strictSame(view.metrics['final_a'], [{ value: 1, step: 9, timestamp: T0 }])
  t.strictSame(view.metrics['accuracy'], [{ value: 0.75, step: 0, timestamp: T0 }])
  t.strictSame(view.metrics['per_class/1'], [{ value: 0.25, step: 0, timestamp: T0 }])
  t.strictSame(view.metrics['chain/attack/success'], [{ value: 1, step: 0, timestamp: T0 }])
  // NaN comes back as NaN; the SQL store keeps the infinities as the largest doubles.
  const odd = view.metrics['odd'] ?? []
  t.ok(Number.isNaN(odd[0]?.value))
  t.equal(odd[1]?.value, Number.MAX_VALUE)
  t.equal(odd[2]?.value, -Number.MAX_VALUE)
  t.match(view.tags, {
    'mlflow.runName': 'rt-1',
    'mlflow.user': 'tester',
    'mlflow.source.name': 'spec.ts',
    'mlflow.source.type': 'LOCAL',
    'mlflow.source.git.commit': 'a'.repeat(40),
    'mlflow.note.content': 'round trip',
    team: 'red',
    stage: 'eval'
  })
  t.strictSame(Object.keys(view.artifacts).sort(), [
    'figures/deep/pr.txt',
    'figures/roc.txt',
    'models/model.bin',
    'notes/readme.txt',
    'raw.bin',
    'results.json'
  ])
  t.strictSame([...(view.artifacts['models/model.bin'] ?? [])], Array.from({ length: 256 }, (_, i) => i))
  t.equal(new TextDecoder().decode(view.artifacts['notes/readme.txt']), 'héllo')
  t.strictSame([...(view.artifacts['raw.bin'] ?? [])], [0, 255, 10])
  t.equal(new TextDecoder().decode(view.artifacts['figures/deep/pr.txt']), 'pr curve')
})

t.test('a reopened run takes more metrics and artifacts and stays FINISHED', async (t) => {
  const first = expectRight(await run(evaluate({ experiment: 'reopen' }, async () => ({ a: 1 })), env))
  const later = { ...env, clock: { now: () => T0 + 5000 } }
  expectRight(
    await run(
      reopen(first.runId, async (r) => {
        await r.logMetric('custom_metric', 42)
        await r.logArtifact({ path: 'later.txt', text: 'added later' })
      }),
      later
    )
  )
  const view = await readRun(server.url, first.runId)
  t.equal(view.status, 'FINISHED')
  t.equal(view.endTime, T0)
  t.strictSame(view.metrics['custom_metric'], [{ value: 42, step: 0, timestamp: T0 + 5000 }])
  t.equal(new TextDecoder().decode(view.artifacts['later.txt']), 'added later')
})

t.test('the experiment is found by name, and created once', async (t) => {
  const other = await built(mlflowSink(server.url, { journal: false }), { logger })
  t.teardown(() => other.close())
  const [a, b] = await Promise.all([sink.experiment('raced')(), other.experiment('raced')()])
  t.strictSame(a, b)
  const byName = await restGet(server.url, 'mlflow/experiments/get-by-name?experiment_name=raced')
  t.equal((byName['experiment'] as { experiment_id: string }).experiment_id, E.isRight(a) ? a.right : 'none')
})

t.test('limits: 2,500 params, 25,000 points and 300 tags arrive complete', async (t) => {
  const params = Array.from({ length: 2500 }, (_, i) => [`p${i}`, `v${i}`] as const)
  const program = pipe(
    Track.traverseArray(([k, v]: readonly [string, string]) => trackParam(k, v))(params),
    Track.flatMap(() =>
      evaluate(
        { experiment: 'limits', tags: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`tag${i}`, `t${i}`])) },
        async (r) => {
          for (let i = 0; i < 25_000; i++) await r.logMetric(`m${i % 10}`, i, { step: Math.floor(i / 10) })
        }
      )
    )
  )
  const { runId } = expectRight(await run(program, env))
  const view = await readRun(server.url, runId)
  t.equal(Object.keys(view.params).length, 2501)
  t.equal(view.params['p2499'], 'v2499')
  t.equal(Object.keys(view.tags).filter((k) => k.startsWith('tag')).length, 300)
  t.equal(view.tags['tag299'], 't299')
  let points = 0
  for (let m = 0; m < 10; m++) {
    const h = view.metrics[`m${m}`] ?? []
    points += h.length
    t.strictSame(
      h.map((p) => p.value),
      Array.from({ length: 2500 }, (_, s) => s * 10 + m),
      `m${m} has every value once, in step order`
    )
  }
  t.equal(points, 25_000)
})

t.test('a 10,000-character param is stored truncated, whole as an artifact, with a warning', async (t) => {
  const long = 'x'.repeat(9_000) + 'é'.repeat(1_000)
  warnings.length = 0
  const { runId } = expectRight(
    await run(pipe(trackParam('prompt', long), Track.flatMap(() => evaluate({ experiment: 'long' }, async () => undefined))), env)
  )
  const view = await readRun(server.url, runId)
  t.equal(view.params['prompt'], long.slice(0, 6000))
  t.equal(new TextDecoder().decode(view.artifacts['params/prompt.txt']), long)
  t.match(warnings.join('\n'), /param "prompt" has 10000 characters; MLflow keeps 6000: the whole value is the artifact params\/prompt.txt/)
})

t.test('logParam from the run handle keeps the 6000-character rule, in a run and in a reopened run', async (t) => {
  const long = 'y'.repeat(7_000)
  warnings.length = 0
  const experiment = `long handle ${Math.random().toString(16).slice(2, 10)}`
  const { runId } = expectRight(await run(evaluate({ experiment }, async (r) => void (await r.logParam('prompt', long))), env))
  const rejected: Array<unknown> = []
  expectRight(
    await run(
      reopen(runId, async (r) => {
        await r.logParams({ prompt: long, added: 'later' }) // the same value: nothing to do but the new key
        await r.logParams({ prompt: 'short', other: 1 }).catch((e: unknown) => void rejected.push((e as { error?: unknown }).error))
      }),
      env
    )
  )
  t.match(rejected, [{ _tag: 'ParamConflict', key: 'prompt', attempted: 'short' }])
  const view = await readRun(server.url, runId)
  t.equal(view.params['prompt'], long.slice(0, 6000))
  t.equal(view.params['added'], 'later')
  t.equal(view.params['other'], '1', 'kept beside the conflict')
  t.equal(new TextDecoder().decode(view.artifacts['params/prompt.txt']), long)
  t.match(warnings.join('\n'), /param "prompt" has 7000 characters; MLflow keeps 6000/)
})

t.test('a param cannot change within a run: a typed ParamConflict naming both values', async (t) => {
  const r = await run(
    pipe(
      trackParam('k', 'one'),
      Track.flatMap(() =>
        evaluate({ experiment: 'conflict' }, (h) =>
          Track.fromPromise(async () => {
            await h.setTag('x', 'y')
            return undefined
          })
        )
      )
    ),
    env
  )
  t.ok(E.isRight(r))
  const reopened = await sink.reopenRun(E.isRight(r) ? r.right.runId : '')()
  const conflict = E.isRight(reopened) ? await reopened.right.logParams([['k', 'two']])() : E.left(null)
  t.match(conflict, { _tag: 'Left', left: { _tag: 'ParamConflict', key: 'k', recorded: 'one', attempted: 'two' } })
})

t.test('server refusals are typed errors carrying error_code; a run the server does not know is a NotFound', async (t) => {
  const nowhere = await sink.openRun({ experimentId: '987654321', runName: 'r', startTime: T0, tags: [] })()
  t.match(nowhere, { _tag: 'Left', left: { _tag: 'HttpError', status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' } })
  const missing = '0'.repeat(32)
  t.match(await sink.reopenRun(missing)(), { _tag: 'Left', left: { _tag: 'NotFound', what: 'run', id: missing } })
})

t.test('TLS: a CA bundle, skipping checks, and a client certificate', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const { readFileSync } = await import('node:fs')
  const { Mlflow: { configFromEnv } } = await import('charmory-track')
  const { startFaultProxy } = await import('../support/fault-proxy.js')
  const dir = mkdtempSync(join(tmpdir(), 'charmory-tls-'))
  const selfSigned = (name: string, subject: string, san?: string) => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', subject,
      '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`),
      ...(san === undefined ? [] : ['-addext', `subjectAltName=${san}`])
    ], { stdio: 'ignore' })
    const key = readFileSync(join(dir, `${name}.key`), 'utf8')
    const cert = readFileSync(join(dir, `${name}.crt`), 'utf8')
    writeFileSync(join(dir, `${name}.pem`), cert + key)
    return { key, cert }
  }
  const serverCert = selfSigned('server', '/CN=127.0.0.1', 'IP:127.0.0.1')
  const clientCert = selfSigned('client', '/CN=charmory-client')
  const pass = () => ({ kind: 'pass' }) as const
  const open = await startFaultProxy(server.url, pass, { tls: serverCert })
  const mutual = await startFaultProxy(server.url, pass, {
    tls: { ...serverCert, requestCert: true, rejectUnauthorized: true, ca: clientCert.cert }
  })
  t.teardown(async () => {
    await open.close()
    await mutual.close()
  })
  const tryWith = async (url: string, vars: Record<string, string>) => {
    const config = configFromEnv({ MLFLOW_TRACKING_URI: url, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', ...vars })
    if (E.isLeft(config)) throw new Error('config')
    const s = await built(mlflowSink(config.right, { journal: false }), { logger })
    try {
      return await s.experiment('tls')()
    } finally {
      await s.close()
    }
  }
  t.match(await tryWith(open.url, {}), { left: { _tag: 'NetworkError' } }, 'an unknown CA is refused')
  t.ok(E.isRight(await tryWith(open.url, { MLFLOW_TRACKING_SERVER_CERT_PATH: join(dir, 'server.crt') })), 'trusted CA bundle')
  t.ok(E.isRight(await tryWith(open.url, { MLFLOW_TRACKING_INSECURE_TLS: 'true' })), 'checks skipped')
  t.match(await tryWith(mutual.url, { MLFLOW_TRACKING_INSECURE_TLS: 'true' }), { left: { _tag: 'NetworkError' } }, 'no client cert')
  t.ok(
    E.isRight(
      await tryWith(mutual.url, {
        MLFLOW_TRACKING_SERVER_CERT_PATH: join(dir, 'server.crt'),
        MLFLOW_TRACKING_CLIENT_CERT_PATH: join(dir, 'client.pem')
      })
    ),
    'client certificate presented'
  )
})
