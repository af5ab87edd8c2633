// Tracking overhead, in this process, no server: a wrapped call against the bare call, and
// recording many params into one context.
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Errors, getParams, memorySink, run, Track, trackParam, withParams } from 'charmory-track'

// -------------------------------------------------------------------------------------
// wrapped call
// -------------------------------------------------------------------------------------

interface LoaderOptions {
  readonly name: string
  readonly lr: number
  readonly layers: number
  readonly device: string
  readonly pretrained: boolean
}

// What the wrapped function does is beside the point: it must only not be optimised away.
const loadModel = (o: LoaderOptions): number => o.layers + o.lr

/** ns per call of `loadModel(options)` and of `withParams(loadModel)(options)`, fresh options each call. */
export const callCosts = (calls: number): { bare: number; wrapped: number } => {
  const wrapped = withParams(loadModel)
  let sink = 0
  let t = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) sink += loadModel({ name: 'resnet18', lr: 0.001, layers: i, device: 'cpu', pretrained: true })
  const bare = Number(process.hrtime.bigint() - t) / calls
  t = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) {
    const r = wrapped({ name: 'resnet18', lr: 0.001, layers: i, device: 'cpu', pretrained: true })
    if (E.isRight(r.result)) sink += r.result.right
  }
  const wrappedNs = Number(process.hrtime.bigint() - t) / calls
  if (sink === 0) throw new Error('unreachable: keeps the loops alive')
  return { bare, wrapped: wrappedNs }
}

// -------------------------------------------------------------------------------------
// recording params
// -------------------------------------------------------------------------------------

const quiet = { warn: () => undefined, info: () => undefined }

const timeRun = async (n: number, pipeline: Track.Track<Readonly<Record<string, string>>>): Promise<number> => {
  const start = process.hrtime.bigint()
  const result = await run(pipeline, { sink: memorySink(), logger: quiet })
  const ns = Number(process.hrtime.bigint() - start)
  if (E.isLeft(result)) throw new Error(Errors.describeError(result.left))
  const recorded = Object.keys(result.right).length
  if (recorded !== n) throw new Error(`recorded ${recorded} params, expected ${n}`)
  return ns / n
}

/** ns per param: `n` `trackParam` steps in one pipeline (`Track.traverseArray`). */
export const paramStepCost = (n: number): Promise<number> =>
  timeRun(
    n,
    pipe(
      Array.from({ length: n }, (_, i) => i),
      Track.traverseArray((i) => trackParam(`param_${i}`, i * 0.5)),
      Track.flatMap(() => getParams)
    )
  )

/** ns per param: one `trackParam` of a config object with `n` keys (flattened to `n` params). */
export const paramObjectCost = (n: number): Promise<number> => {
  const config: Record<string, number> = {}
  for (let i = 0; i < n; i++) config[`p${i}`] = i * 0.5
  return timeRun(
    n,
    pipe(
      trackParam('config', config),
      Track.flatMap(() => getParams)
    )
  )
}
