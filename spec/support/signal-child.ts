// A child process for the signal and journal specs: one evaluation that streams metric points
// until the parent signals or kills it.
//
//   signal-child.ts mlflow <url> <experiment> [graceMs]   mlflowSink(url) as users build it
//                                                         (journaled in $ARMORY_HOME/mlruns)
//   signal-child.ts local <dir> <experiment> [graceMs]    openStore(dir)
//
// Point i is `loss` = i at step i, timestamp 1000 + i. The child prints "logged <n>" once
// 500 points were logged, and "result <json>" if `run` ever returns (with the Left described).
import * as E from 'fp-ts/lib/Either.js'
import { Errors, evaluate, localSink, mlflowSink, run } from 'charmory-track'

const [kind = 'local', target = '', experiment = 'signals', grace = '60000'] = process.argv.slice(2)

const sink = kind === 'mlflow' ? mlflowSink(target) : localSink({ dir: target })
const pause = (): Promise<void> => new Promise((ok) => setTimeout(ok, 1))

const result = await run(
  evaluate({ experiment, runName: 'interrupted' }, async (r) => {
    for (let i = 0; ; i++) {
      await r.logMetric('loss', i, { step: i, timestamp: 1000 + i })
      if (i === 499) process.stdout.write('logged 500\n')
      // a real evaluation does I/O between points: the event loop turns, and signals arrive
      if (i % 20 === 19) await pause()
    }
  }),
  { sink, graceMs: Number(grace) }
)
process.stdout.write(`result ${JSON.stringify(E.isLeft(result) ? { left: result.left._tag, message: Errors.describeError(result.left) } : { right: true })}\n`)
