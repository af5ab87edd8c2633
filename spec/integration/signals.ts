// SIGINT and SIGTERM sent to a real child process in the middle of an evaluation: the run
// ends KILLED with its end time and every point logged before the signal, on a real MLflow
// server (through the journal `run` adds by default) and in a local store, and the process
// exits 130 / 143. A second SIGINT exits at once, even while the server hangs.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { LocalStore, mlflowSink, syncStore } from 'charmory-track'
import { captureLogger } from '../support/behaviour.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { childEnv, right, root, tempDir, tsNode } from '../support/local-store.js'
import { readRun } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

interface Child {
  /** Resolves when standard output or error has a line matching `pattern`. */
  readonly waitFor: (pattern: RegExp) => Promise<void>
  readonly signal: (signal: NodeJS.Signals) => void
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly output: () => string
}

/** The child script, with its own ARMORY_HOME (where the journal goes). */
const start = (t: Test, home: string, ...args: Array<string>): Child => {
  const { command, args: argv } = tsNode(join(root, 'spec/support/signal-child.ts'), args)
  const child = spawn(command, argv, { cwd: root, env: childEnv({ ARMORY_HOME: home, CHARMORY_TRACK_FALLBACK: undefined }) })
  let output = ''
  const waiters: Array<{ pattern: RegExp; ok: () => void }> = []
  const read = (d: string): void => {
    output += d
    for (const w of waiters.filter((w) => w.pattern.test(output))) w.ok()
  }
  child.stdout.setEncoding('utf8').on('data', read)
  child.stderr.setEncoding('utf8').on('data', read)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.once('exit', (code, signal) => ok({ code, signal }))
  )
  t.teardown(() => void child.kill('SIGKILL'))
  return {
    waitFor: (pattern) =>
      new Promise<void>((ok, fail) => {
        if (pattern.test(output)) return ok()
        waiters.push({ pattern, ok })
        void exited.then(() => fail(new Error(`the child exited before printing ${pattern}:\n${output}`)))
      }),
    signal: (signal) => void child.kill(signal),
    exited,
    output: () => output
  }
}

/** The one run of a local store. */
const onlyRun = async (t: Test, dir: string): Promise<LocalStore.StoredRun> => {
  const runs = right(await LocalStore.listRuns(dir)())
  t.equal(runs.length, 1)
  return right(await LocalStore.loadRun(dir, runs[0]!.runId)())
}

/** Points 0..n-1 of the child's series, as stored: each once, none missing. */
const series = (n: number) => Array.from({ length: n }, (_, i) => ({ value: i, step: i, timestamp: 1000 + i }))

const experiment = (what: string): string => `signals-${what}-${Math.random().toString(36).slice(2, 10)}`

t.test('SIGINT during an evaluation on an MLflow server: the run ends KILLED with every point, exit 130', async (t) => {
  const home = tempDir(t)
  const child = start(t, home, 'mlflow', server.url, experiment('mlflow'))
  await child.waitFor(/logged 500/)
  child.signal('SIGINT')
  t.strictSame(await child.exited, { code: 130, signal: null })
  t.notMatch(child.output(), /result /, 'the process exits without going back to the program')

  const journal = await onlyRun(t, join(home, 'mlruns'))
  t.equal(journal.status, 'KILLED')
  const logged = journal.metricHistories['loss']?.length ?? 0
  t.ok(logged >= 500, `the journal has every point logged (${logged})`)
  t.strictSame(journal.metricHistories['loss'], series(logged))

  const onServer = await readRun(server.url, journal.runId)
  t.equal(onServer.status, 'KILLED')
  t.equal(onServer.endTime, journal.endTime)
  t.ok(typeof onServer.endTime === 'number' && onServer.endTime >= onServer.startTime, 'with its end time')
  t.strictSame(onServer.metrics['loss'], series(logged), 'and every point logged before the signal')
})

t.test('SIGTERM during an evaluation on a local store: the run ends KILLED with every point, exit 143', async (t) => {
  const home = tempDir(t)
  const store = tempDir(t)
  const child = start(t, home, 'local', store, experiment('local'))
  await child.waitFor(/logged 500/)
  child.signal('SIGTERM')
  t.strictSame(await child.exited, { code: 143, signal: null })
  const stored = await onlyRun(t, store)
  t.equal(stored.status, 'KILLED')
  t.ok(typeof stored.endTime === 'number' && stored.endTime >= stored.startTime)
  const logged = stored.metricHistories['loss']?.length ?? 0
  t.ok(logged >= 500)
  t.strictSame(stored.metricHistories['loss'], series(logged))
})

t.test('SIGINT on a local store exits 130', async (t) => {
  const store = tempDir(t)
  const child = start(t, tempDir(t), 'local', store, experiment('local-int'))
  await child.waitFor(/logged 500/)
  child.signal('SIGINT')
  t.strictSame(await child.exited, { code: 130, signal: null })
  t.equal((await onlyRun(t, store)).status, 'KILLED')
})

t.test('a second SIGINT exits at once while the server hangs; the journal has the run, and sync completes it', async (t) => {
  let hanging = true
  const proxy = await startFaultProxy(server.url, (endpoint) =>
    hanging && endpoint === 'POST /api/2.0/mlflow/runs/update' ? { kind: 'hang' } : { kind: 'pass' }
  )
  t.teardown(() => proxy.close())
  const home = tempDir(t)
  const child = start(t, home, 'mlflow', proxy.url, experiment('hang'), '600000')
  await child.waitFor(/logged 500/)
  child.signal('SIGINT')
  await child.waitFor(/SIGINT: ending the open runs KILLED \(1\); SIGINT again exits at once/)
  // the journal is ended first; then the server's run, whose update never gets an answer
  while (!proxy.seen.includes('POST /api/2.0/mlflow/runs/update')) await new Promise((ok) => setTimeout(ok, 50))
  child.signal('SIGINT')
  t.strictSame(await child.exited, { code: 130, signal: null })
  t.notMatch(child.output(), /not ended within/, 'it did not wait for the grace period')

  const store = join(home, 'mlruns')
  const journal = await onlyRun(t, store)
  t.equal(journal.status, 'KILLED')
  t.equal(journal.synced, false)
  const logged = journal.metricHistories['loss']?.length ?? 0
  t.strictSame(journal.metricHistories['loss'], series(logged))
  t.equal((await readRun(server.url, journal.runId)).status, 'RUNNING', 'the server never got the end')

  hanging = false
  const target = await built(mlflowSink(proxy.url), { logger: captureLogger().logger })
  t.teardown(() => target.close())
  const report = right(await syncStore(store, target)())
  t.strictSame(report.runs.map((r) => [r.remoteRunId, r.error]), [[journal.runId, undefined]], 'into the same server run')
  const onServer = await readRun(server.url, journal.runId)
  t.equal(onServer.status, 'KILLED')
  t.equal(onServer.endTime, journal.endTime)
  t.strictSame(onServer.metrics['loss'], series(logged), 'every point, once')
})
