import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { artifactRoot, getMetricHistory, metricJson } from '../../lib/mlflow/Api.js'
import { Int64 } from '../../lib/mlflow/Codecs.js'
import { MetricValue as Double } from '../../lib/Records.js'
import type { HttpClient } from '../../lib/mlflow/Http.js'

t.test('int64 fields read from numbers or decimal text', async (t) => {
  t.strictSame(Int64.decode(12), E.right(12))
  t.strictSame(Int64.decode('1700000000000'), E.right(1700000000000))
  t.ok(E.isLeft(Int64.decode(1.5)))
  t.ok(E.isLeft(Int64.decode('1.5')))
  t.ok(E.isLeft(Int64.decode(null)))
  t.ok(Int64.is(3))
  t.equal(Int64.encode(3), 3)
})

t.test('doubles read NaN and the infinities as protobuf-JSON words, and write them back so', async (t) => {
  t.strictSame(Double.decode(0.5), E.right(0.5))
  t.ok(E.isRight(Double.decode('NaN')) && Number.isNaN((Double.decode('NaN') as E.Right<number>).right))
  t.strictSame(Double.decode('Infinity'), E.right(Infinity))
  t.strictSame(Double.decode('-Infinity'), E.right(-Infinity))
  t.ok(E.isLeft(Double.decode('1.0')))
  t.ok(Double.is(1))
  t.equal(Double.encode(-Infinity), '-Infinity')
  t.equal(Double.encode(2), 2)
  t.strictSame(metricJson({ key: 'k', value: NaN, timestamp: 1, step: 2 }), { key: 'k', value: 'NaN', timestamp: 1, step: 2 })
  t.strictSame(metricJson({ key: 'k', value: 3, timestamp: 1, step: 2 }), { key: 'k', value: 3, timestamp: 1, step: 2 })
})

t.test("a run's proxied artifact root", async (t) => {
  t.strictSame(artifactRoot('mlflow-artifacts:/1/abc/artifacts'), E.right('1/abc/artifacts'))
  t.strictSame(artifactRoot('mlflow-artifacts://host:5000/7/abc/artifacts/'), E.right('7/abc/artifacts'))
  t.match(artifactRoot('/srv/mlruns/1/abc/artifacts'), { _tag: 'Left', left: /--serve-artifacts/ })
  t.match(artifactRoot(undefined), { _tag: 'Left' })
  t.match(artifactRoot('mlflow-artifacts:/'), { _tag: 'Left' })
})

t.test('metric history follows next_page_token to the end', async (t) => {
  const queries: Array<unknown> = []
  const pages = [
    { metrics: [{ key: 'm', value: 1, timestamp: '5', step: '1' }], next_page_token: 'p2' },
    { metrics: [{ key: 'm', value: 'NaN', timestamp: 6 }] },
    {}
  ]
  const http: HttpClient = {
    json: (_method, _path, payload, codec) => {
      queries.push(payload)
      const decoded = codec.decode(pages.shift())
      return TE.fromEither(E.mapLeft(() => ({ _tag: 'DecodeError', source: 'x', path: 'y', message: 'z' }) as const)(decoded))
    },
    put: () => TE.right(undefined),
    get: () => TE.right(new Uint8Array())
  }
  const r = await getMetricHistory(http, 'run', 'm')()
  t.ok(E.isRight(r))
  const points = E.isRight(r) ? r.right : []
  t.equal(points.length, 2)
  t.match(points[0], { key: 'm', value: 1, timestamp: 5, step: 1 })
  t.equal(points[1]?.step, 0, 'a missing step is 0')
  t.match(queries, [{ run_id: 'run', metric_key: 'm' }, { page_token: 'p2' }])
  t.strictSame(await getMetricHistory(http, 'run', 'm')(), E.right([]), 'an empty answer is an empty history')
})
