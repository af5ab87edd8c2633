import t from 'tap'
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LocalStore, evaluate, localSink, run } from 'charmory-track'
import * as Layout from '../../lib/local/Layout.js'
import { openStore } from '../support/local-store.js'
import { DEFAULT_SERVER, syncCommand, usage } from '../../lib/cli/sync.js'
import { testIo } from '../support/local-cli.js'
import { right } from '../support/local-store.js'
import { fixedSource } from '../support/behaviour.js'
import * as O from 'fp-ts/lib/Option.js'
import { freePort, serverFor } from '../support/mlflow-server.js'
import { restGet } from '../support/mlflow-read.js'

/** Two runs in the store of `home`: a parent with an artifact and its child. */
const fill = async (home: string) => {
  const dir = join(home, '.armory', 'mlruns')
  const done = right(
    await run(
      evaluate({ experiment: 'cli sync', runName: 'parent' }, async (r) => {
        await r.logArtifact({ path: 'notes.txt', text: 'hello' })
        for (let step = 0; step < 5; step++) await r.logMetric('loss', step, { step })
        return { accuracy: 0.5 }
      }),
      { sink: openStore(dir), source: () => fixedSource(O.none) }
    )
  )
  return { dir, runId: done.runId }
}

t.test('--help; a bad flag; a --to that is not a server', async (t) => {
  const help = testIo(t)
  t.equal(await syncCommand(['--help'], help), 0)
  t.equal(help.out(), usage)
  const bad = testIo(t)
  t.equal(await syncCommand(['--force'], bad), 2)
  t.match(bad.err(), /Unknown option '--force'/)
  const sqlite = testIo(t)
  t.equal(await syncCommand(['--to', 'sqlite:///mlflow.db'], sqlite), 2)
  t.equal(sqlite.err(), 'charmory-track sync: --to: expected an http(s):// address, not a "sqlite:" one\n')
  const fromEnv = testIo(t, { MLFLOW_TRACKING_URI: 'https://' })
  t.equal(await syncCommand([], fromEnv), 2)
  t.equal(fromEnv.err(), 'charmory-track sync: MLFLOW_TRACKING_URI: expected an http(s):// address such as http://127.0.0.1:5000\n')
})

t.test('nothing listening: the command gives up after two retries of the refused connection, with the hint', async (t) => {
  const port = await freePort()
  // MLflow's policy would retry 7 times over about 4 minutes; a small backoff keeps the spec short
  const io = testIo(t, { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.01', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0' })
  await fill(io.home)
  t.equal(await syncCommand(['--to', `http://127.0.0.1:${port}`], io), 1)
  const retries = io.err().match(/warning: .* retry \d+ after/g) ?? []
  t.equal(retries.length, 2, io.err())
  t.match(io.err(), /ECONNREFUSED.*\(is it running\? `charmory-track server` starts one\)\n$/)
})

t.test('a store that cannot be read: the error, without the hint of a server that is not running', async (t) => {
  const io = testIo(t)
  const store = join(io.home, '.armory', 'mlruns')
  mkdirSync(store, { recursive: true })
  writeFileSync(join(store, 'runs'), 'a file where the runs folder goes')
  t.equal(await syncCommand(['--to', 'http://127.0.0.1:9'], io), 1)
  t.match(io.err(), /^charmory-track sync: .*runs: .*\n$/)
  t.notMatch(io.err(), /is it running/)
})

t.test('a dry run counts what would be sent, to the server the environment names', async (t) => {
  const io = testIo(t)
  await fill(io.home)
  t.equal(await syncCommand(['--dry-run'], io), 0)
  t.equal(io.out(), `would sync 1 run to ${DEFAULT_SERVER}: 1 param, 6 metric points, 4 tags, 2 artifacts\n`)
  const named = testIo(t, { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999', ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await syncCommand(['--dry-run'], named), 0)
  t.match(named.out(), /^would sync 1 run to http:\/\/127\.0\.0\.1:5999:/)
  const to = testIo(t, { MLFLOW_TRACKING_URI: 'file:///nowhere' })
  t.equal(await syncCommand(['--dry-run', '--to=http://127.0.0.1:5998'], to), 0)
  t.equal(to.out(), 'nothing to sync: every run in /nowhere is on http://127.0.0.1:5998\n')
})

t.test('a server that cannot be reached: an error with a hint, exit 1', async (t) => {
  const port = await freePort()
  const io = testIo(t, { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' })
  await fill(io.home)
  t.equal(await syncCommand(['--to', `http://127.0.0.1:${port}`], io), 1)
  t.match(io.err(), /^charmory-track sync: .*\(is it running\? `charmory-track server` starts one\)\n$/)
  t.equal(io.out(), '')

  const damaged = testIo(t)
  const { dir, runId } = await fill(damaged.home)
  appendFileSync(Layout.journalPath(dir, runId), 'garbage\n')
  t.equal(await syncCommand(['--to', `http://127.0.0.1:${port}`, '--dry-run'], damaged), 0, 'a bad line stops nothing')
  t.match(damaged.err(), /^charmory-track sync: run \w+: unexpected data from .*journal\.jsonl:\d+ at \(line\): not JSON.*; the line was skipped, the rest sent\n$/)
  t.match(damaged.out(), /^would sync 1 run/)
})

t.test('sync to a real server: a summary, then nothing; a failed run is named', async (t) => {
  const server = await serverFor(t)
  if (server === undefined) return
  const io = testIo(t)
  const { dir, runId } = await fill(io.home)
  t.equal(await syncCommand(['--to', server.url], io), 0, io.err())
  t.equal(io.out(), `synced 1 of 1 run to ${server.url}: 1 param, 6 metric points, 4 tags, 2 artifacts\n`)
  const remoteId = right(await LocalStore.listRuns(dir)())[0]?.sync[0]?.remoteRunId
  const got = await restGet(server.url, `mlflow/runs/get?run_id=${remoteId}`)
  t.match(got, { run: { info: { run_name: 'parent', status: 'FINISHED' } } })

  const again = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await syncCommand(['--to', server.url], again), 0)
  t.equal(again.out(), `nothing to sync: every run in ${dir} is on ${server.url}\n`)

  const tty = testIo(t, {}, { tty: true })
  const second = await fill(tty.home)
  const broken = await fill(tty.home)
  rmSync(Layout.artifactFile(second.dir, broken.runId, 'notes.txt'))
  t.equal(await syncCommand(['--to', server.url], tty), 1)
  t.match(tty.out(), /^synced 1 of 2 runs to /)
  t.match(tty.err(), new RegExp(`charmory-track sync: run ${broken.runId} failed: artifact "${broken.runId}/notes.txt" not found`))
  t.match(tty.err(), /sync \[/, 'a progress bar on a terminal')
  t.notOk(runId === broken.runId)
})
