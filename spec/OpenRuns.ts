import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, Sink, memorySink, OpenRuns } from 'charmory-track'
import { left, right } from './support/local-store.js'

const request = (experimentId: string, runName: string) => ({ experimentId, runName, startTime: 1, tags: [] })

t.test('a run is registered from its opening until it has ended; endAll ends the others KILLED', async (t) => {
  const memory = memorySink()
  const runs = OpenRuns.openRuns()
  const sink = runs.track(memory)
  const id = right(await sink.experiment('e')())
  const done = right(await sink.openRun(request(id, 'done'))())
  const open = right(await sink.openRun(request(id, 'open'))())
  t.equal(runs.size(), 2)
  right(await done.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  right(await done.end('FINISHED', 5)())
  t.equal(runs.size(), 1)
  right(await open.logMetrics([{ key: 'm', value: 2, step: 0, timestamp: 1 }])())
  t.strictSame(await runs.endAll('KILLED', 9), [])
  t.equal(runs.size(), 0)
  const byName = Object.fromEntries(memory.snapshot().runs.map((r) => [r.runName, r]))
  t.match(byName['done'], { status: 'FINISHED', endTime: 5 })
  t.match(byName['open'], { status: 'KILLED', endTime: 9, metrics: { m: [{ value: 2 }] } })
  t.strictSame(await runs.endAll('KILLED', 10), [], 'nothing left to end')
  t.match(left(await sink.openRun(request('missing', 'x'))()), { _tag: 'NotFound' }, 'a failed opening registers nothing')
  t.equal(runs.size(), 0)
})

t.test('a reopened run is registered until it is flushed, and endAll flushes it without ending it', async (t) => {
  const memory = memorySink()
  const runs = OpenRuns.openRuns()
  const sink = runs.track(memory)
  const id = right(await sink.experiment('e')())
  const r = right(await sink.openRun(request(id, 'r'))())
  right(await r.end('FINISHED', 5)())
  const again = right(await sink.reopenRun(r.runId)())
  t.equal(runs.size(), 1)
  right(await again.flush()())
  t.equal(runs.size(), 0)
  right(await sink.reopenRun(r.runId)())
  t.strictSame(await runs.endAll('KILLED', 9), [])
  t.match(memory.snapshot().runs[0], { status: 'FINISHED', endTime: 5 })
  t.equal(runs.size(), 0)
})

t.test('endAll waits for a run already ending instead of ending it again, and reports runs it could not end', async (t) => {
  let release: () => void = () => undefined
  const ends: Array<string> = []
  const slowRun = (runId: string, failing: boolean): Sink.RunSink => ({
    runId,
    experimentId: 'e',
    logParams: () => TE.right(undefined),
    logMetrics: () => TE.right(undefined),
    setTags: () => TE.right(undefined),
    logArtifact: () => TE.right(undefined),
    flush: () => TE.right(undefined),
    end: (status) => async () => {
      ends.push(`${runId} ${status}`)
      if (failing) return E.left<Errors.TrackError, void>(Errors.notFound('run', runId))
      await new Promise<void>((ok) => (release = ok))
      return E.right(undefined)
    }
  })
  const sink: Sink.Sink = {
    name: 'slow',
    experiment: () => TE.right('e'),
    openRun: (r) => TE.right(slowRun(r.runName, r.runName === 'broken')),
    reopenRun: (id) => TE.left(Errors.notFound('run', id))
  }
  const runs = OpenRuns.openRuns()
  const tracked = runs.track(sink)
  const slow = right(await tracked.openRun(request('e', 'slow'))())
  right(await tracked.openRun(request('e', 'broken'))())
  const finishing = slow.end('FINISHED', 5)()
  const all = runs.endAll('KILLED', 9)
  await new Promise((ok) => setImmediate(ok))
  release()
  t.strictSame(await all, [{ runId: 'broken', error: Errors.notFound('run', 'broken') }])
  right(await finishing)
  t.strictSame(ends, ['slow FINISHED', 'broken KILLED'], 'the ending run is not ended twice')
  t.equal(runs.size(), 0)
  t.match(left(await tracked.reopenRun('x')()), { _tag: 'NotFound' })
})

t.test('a run ended by endAll takes nothing more; ending it again is that same end', async (t) => {
  const memory = memorySink()
  const runs = OpenRuns.openRuns()
  const sink = runs.track(memory)
  const id = right(await sink.experiment('e')())
  const r = right(await sink.openRun(request(id, 'r'))())
  right(await r.logMetrics([{ key: 'm', value: 1, step: 0, timestamp: 1 }])())
  t.strictSame(await runs.endAll('KILLED', 9), [])
  const point = [{ key: 'm', value: 2, step: 1, timestamp: 2 }]
  for (const refused of [
    r.logMetrics(point),
    r.logParams([['a', '1']]),
    r.setTags([['t', 'v']]),
    r.logArtifact('a.txt', new Uint8Array([1])),
    r.flush()
  ]) {
    t.strictSame(left(await refused()), Errors.runEnded(r.runId))
  }
  t.match(Errors.describeError(Errors.runEnded(r.runId)), /has ended/)
  right(await r.end('FAILED', 10)())
  t.match(memory.snapshot().runs[0], { status: 'KILLED', endTime: 9, metrics: { m: [{ value: 1 }] }, tags: {} })
})
