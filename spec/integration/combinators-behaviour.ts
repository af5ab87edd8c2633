// The shared behaviour suite of the tracking core (spec/support/behaviour.ts) against the sinks
// users build from others: `withLocalFallback` and `withLocalJournal` over an MLflow sink and a
// real server, and `sinkFromEnv` as the environment chooses it (a server, or the local store).
// A run that reached the server is read back through the server's REST API, a local one from
// the store's files, so that no combinator drifts from the sinks it is made of.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore, Sink, localSink, mlflowSink, nodePlatform, sinkFromEnv, withLocalFallback, withLocalJournal } from 'charmory-track'
import { behaviourSuite, type RunView, type SinkUnderTest } from '../support/behaviour.js'
import { right, viewOf } from '../support/local-store.js'
import { readRun } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'
import { nodeServices } from '../../lib/runtime/node.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const quiet = { warn: () => undefined, info: () => undefined }

const fromServer = async (runId: string): Promise<RunView> => {
  const { status, startTime, endTime, params, metrics, tags, artifacts } = await readRun(server.url, runId)
  return { status, startTime, endTime, params, metrics, tags, artifacts }
}

/** A sink under test over a fresh folder of its own (its local store or its home), removed when it is closed. */
const inFolder = async (
  open: (folder: string) => Promise<Sink.Sink & { readonly close: () => Promise<void> }>,
  readBack: (folder: string) => (runId: string) => Promise<RunView>
): Promise<SinkUnderTest> => {
  const folder = mkdtempSync(join(tmpdir(), 'charmory-combined-'))
  const sink = await open(folder)
  return {
    sink,
    readRun: readBack(folder),
    close: async () => {
      await sink.close()
      rmSync(folder, { recursive: true, force: true })
    }
  }
}

/** What `sinkFromEnv` builds from these variables, with `ARMORY_HOME` in `folder`. */
const fromEnv = (vars: Record<string, string>) => (folder: string) =>
  built(sinkFromEnv(), { vars: { ...vars, ARMORY_HOME: folder }, home: folder, logger: quiet }, nodeServices)

// the four are independent (each test keeps to experiments of its own): side by side
t.jobs = 4

void behaviourSuite(t, 'withLocalFallback over a reachable MLflow server', () =>
  inFolder(
    (dir) => built(withLocalFallback(mlflowSink(server.url, { journal: false }), localSink({ dir })), { logger: quiet }),
    () => fromServer
  )
)

void behaviourSuite(t, 'withLocalJournal over an MLflow server', () =>
  inFolder(
    (dir) => built(withLocalJournal(mlflowSink(server.url, { journal: false }), localSink({ dir })), { logger: quiet }),
    () => fromServer
  )
)

void behaviourSuite(t, 'sinkFromEnv with MLFLOW_TRACKING_URI', () => inFolder(fromEnv({ MLFLOW_TRACKING_URI: server.url }), () => fromServer))

void behaviourSuite(t, 'sinkFromEnv without MLFLOW_TRACKING_URI (the local store)', () =>
  inFolder(fromEnv({}), (home) => {
    const dir = join(home, 'mlruns')
    return async (runId) => viewOf(dir, right(await LocalStore.loadRun(dir, runId)()))
  })
)
