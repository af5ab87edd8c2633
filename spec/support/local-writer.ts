// A child process that writes runs into a local store, for the specs of lib/sinks/local.ts.
//
//   local-writer.ts concurrent <dir> <writer>   five runs in two shared experiments; prints
//                                                {"runIds": [...]} when done
//   local-writer.ts killed <dir>                 one run that never ends: flushes every 500
//                                                points and prints "flushed <runId> <count>",
//                                                until it is killed
import * as E from 'fp-ts/lib/Either.js'
import { Errors, evaluate, run } from 'charmory-track'
import { openStore } from './local-store.js'

const [mode, dir = '', writer = 'w'] = process.argv.slice(2)

const check = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) {
    process.stderr.write(`${Errors.describeError(r.left)}\n`)
    process.exit(2)
  }
  return r.right
}

const concurrent = async (): Promise<void> => {
  const sink = openStore(dir)
  const runIds: Array<string> = []
  for (let i = 0; i < 5; i++) {
    const evaluation = await run(
      evaluate({ experiment: `shared-${i % 2}`, runName: `${writer}-${i}`, tags: { writer } }, async (r) => {
        for (let step = 0; step < 2000; step++) await r.logMetric('loss', step / 2000, { step, timestamp: 1000 + step })
        await r.logArtifact({ path: 'who.txt', text: `${writer} ${i}` })
        // let the other process take a turn between runs
        await new Promise((ok) => setTimeout(ok, 5))
        return { done: i }
      }),
      { sink }
    )
    runIds.push(check(evaluation).runId)
  }
  process.stdout.write(`${JSON.stringify({ runIds })}\n`)
}

const killed = async (): Promise<void> => {
  const sink = openStore(dir, { flushIntervalMs: 20 })
  const experimentId = check(await sink.experiment('killed')())
  const r = check(await sink.openRun({ experimentId, runName: 'doomed', startTime: 1000, tags: [['phase', 'train']] })())
  check(await r.logParams([['lr', '0.1']])())
  check(await r.logArtifact('notes.txt', new TextEncoder().encode('before the kill'))())
  for (let i = 0; ; i++) {
    check(await r.logMetrics([{ key: 'loss', value: i, timestamp: 2000 + i, step: i }])())
    if ((i + 1) % 500 === 0) {
      check(await r.flush()())
      process.stdout.write(`flushed ${r.runId} ${i + 1}\n`)
      // give the parent a chance to see the line and the interval timer a chance to fire
      await new Promise((ok) => setTimeout(ok, 1))
    }
  }
}

await (mode === 'killed' ? killed() : concurrent())
