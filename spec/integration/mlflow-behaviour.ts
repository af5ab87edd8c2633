// The shared behaviour suite of the tracking core (spec/support/behaviour.ts) against the
// MLflow sink and a real server, read back through the server's REST API, so that the memory
// sink and the MLflow sink cannot drift apart.
import t from 'tap'
import { mlflowSink } from 'charmory-track'
import { behaviourSuite } from '../support/behaviour.js'
import { readRun } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

await behaviourSuite(t, 'MLflow sink', async () => {
  const sink = mlflowSink(server.url, { logger: { warn: () => undefined, info: () => undefined } })
  return {
    sink,
    readRun: async (runId) => {
      const { status, startTime, endTime, params, metrics, tags, artifacts } = await readRun(server.url, runId)
      return { status, startTime, endTime, params, metrics, tags, artifacts }
    },
    close: async () => sink.close()
  }
})
