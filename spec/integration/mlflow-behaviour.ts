// The shared behaviour suite of the tracking core (spec/support/behaviour.ts) against the
// MLflow sink and a real server, read back through the server's REST API, so that the memory
// sink and the MLflow sink cannot drift apart.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mlflowSink } from 'charmory-track'
import { behaviourSuite } from '../support/behaviour.js'
import { readRun } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

// As users get it: `run` journals the sink's runs in a local store (here a temporary one).
await behaviourSuite(t, 'MLflow sink', async () => {
  const journal = mkdtempSync(join(tmpdir(), 'charmory-journal-'))
  const sink = await built(mlflowSink(server.url, { journal: { dir: journal } }), { logger: { warn: () => undefined, info: () => undefined } })
  return {
    sink,
    readRun: async (runId) => {
      const { status, startTime, endTime, params, metrics, tags, artifacts } = await readRun(server.url, runId)
      return { status, startTime, endTime, params, metrics, tags, artifacts }
    },
    close: async () => {
      await sink.close()
      rmSync(journal, { recursive: true, force: true })
    }
  }
})
