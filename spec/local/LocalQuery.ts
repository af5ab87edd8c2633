// The local sink's queries over what a store can hold besides well-formed runs: points logged
// out of order, a run folder without a journal, ids that cannot name a run, a damaged store.
// The queries themselves are checked on every sink by the shared behaviour suite.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {  } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { right, tempDir } from '../support/local-store.js'

t.test('a search keeps each metric\'s latest point however the points were logged', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  const r = right(await sink.openRun({ experimentId: right(await sink.experiment('e')()), runName: 'n', startTime: 1, tags: [] })())
  right(
    await r.logMetrics([
      { key: 'm', value: 5, step: 3, timestamp: 10 },
      { key: 'm', value: 1, step: 1, timestamp: 20 },
      { key: 'm', value: 7, step: 3, timestamp: 9 },
      { key: 'm', value: 2, step: 3, timestamp: 10 }
    ])()
  )
  right(await r.logArtifact('notes.txt', new TextEncoder().encode('x'))())
  right(await r.setTags([['phase', 'test']])())
  right(await r.end('FINISHED', 2)())
  const found = right(await sink.query.searchRuns({ filter: 'metrics.m = 5' })())
  t.strictSame(found.runs.map((x) => [x.runName, x.metrics, x.endTime]), [['n', { m: 5 }, 2]])
  t.strictSame(right(await sink.query.getMetricHistory(r.runId, 'm')()).metrics.map((m) => m.value), [7, 2, 5, 1], 'by timestamp, step, value')
  t.equal(right(await sink.query.getRun(r.runId)()).tags['phase'], 'test', 'a run read alone is read from its summary, tags and all')
})

t.test('a run folder without a journal is no run; an id that cannot name a run is NotFound', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  right(await sink.experiment('e')())
  mkdirSync(join(dir, 'runs', 'halfmade'))
  t.strictSame(right(await sink.query.searchRuns()()).runs, [])
  t.match(await sink.query.getRun('halfmade')(), E.left({ _tag: 'NotFound', what: 'run', id: 'halfmade' }))
  t.match(await sink.query.getRun('../escape')(), E.left({ _tag: 'NotFound', what: 'run', id: '../escape' }))
  t.strictSame(right(await openStore(join(dir, 'absent')).query.searchRuns()()).runs, [], 'no store, no runs')
})

t.test('a store whose runs cannot be listed is a FileError', async (t) => {
  const dir = tempDir(t)
  const sink = openStore(dir)
  right(await sink.experiment('e')())
  rmSync(join(dir, 'runs'), { recursive: true })
  writeFileSync(join(dir, 'runs'), 'not a folder')
  t.match(await sink.query.searchRuns()(), E.left({ _tag: 'FileError', path: join(dir, 'runs') }))
})
