// The sweep of bad inputs from plain JavaScript (spec/support/bad-inputs.ts) on the MLflow sink
// and a real server: every row, since each is refused before anything is sent, then the run
// read back through the server's REST API, independently of the code under test. Also through
// the fallback combinator over the server, and with the local journal the sink keeps by default.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { LocalStore, Sink, localSink, mlflowSink, openSink, withLocalFallback } from 'charmory-track'
import { inputSweep } from '../support/bad-inputs.js'
import { readRun } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'
import { right, tempDir } from '../support/local-store.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const quiet = { logger: { warn: () => undefined, info: () => undefined } }
const uniq = randomUUID().slice(0, 8)

const served = (sink: Sink.Sink & { readonly close: () => Promise<void> }) => ({
  sink,
  query: sink.query,
  readRun: (runId: string) => readRun(server.url, runId),
  close: sink.close
})

t.test('bad inputs on the MLflow sink, journaled as users get it', async (t) => {
  const journal = tempDir(t)
  const sink = right(await openSink(mlflowSink(server.url, { journal: { dir: journal } }), quiet))
  const rows = await inputSweep(t, 'MLflow', served(sink), `sweep mlflow ${uniq}`)
  t.ok(rows >= 200, `${rows} bad inputs`)
  const found = right(await sink.query.searchRuns({ experiments: [`sweep mlflow ${uniq}`] })())
  t.equal(found.runs.length, 1, 'one run on the server: no bad call opened another')
  const journaled = right(await LocalStore.loadRun(journal, found.runs[0]!.runId)())
  t.strictSame(Object.keys(journaled.metricHistories), ['before'], 'the journal holds what the server holds')
  t.strictSame(journaled.unreadable, [], 'and no record its reader refuses')
})

t.test('bad inputs through the fallback combinator over the server', async (t) => {
  const dir = tempDir(t)
  const sink = right(await openSink(withLocalFallback(mlflowSink(server.url, { journal: false }), localSink({ dir })), quiet))
  await inputSweep(t, 'fallback over MLflow', { ...served(sink), query: undefined }, `sweep fallback ${uniq}`)
})
