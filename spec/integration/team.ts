// A team's deployment, real (issue 12): one PostgreSQL, two MLflow server replicas on it sharing
// one artifact folder, and writer processes spread over the replicas, each an `evaluate` with
// 20 params and 5,000 metric points. What every run holds is read back by MLflow's own Python
// client. Then the same under faults: PostgreSQL restarted in the middle of the runs, and a
// replica killed in the middle of them with the offline fallback on.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { LocalStore, evaluate, localSink, run } from 'charmory-track'
import { freePort } from '../support/mlflow-server.js'
import { childEnv, right, root, tempDir, tsNode } from '../support/local-store.js'
import { firstSeen, readRuns, startWriter, teamFor, type ReadRun, type Writer } from '../support/team.js'
import { teamHistories, teamParams } from '../support/team-data.js'
import { VERSION } from '../../lib/version.js'

const POINTS = 5000

const team = await teamFor(t)

/** What writer `w`'s run must hold, exactly, as MLflow's client reads it. */
const expected = (w: number, runId: string) => ({
  run_id: runId,
  run_name: `writer-${w}`,
  status: 'FINISHED',
  params: { ...teamParams(w), 'charmory-track.version': VERSION },
  histories: teamHistories(w, POINTS),
  artifacts: ['writer.txt'],
  writer_txt: `writer ${w}\n`
})

const checkRuns = (t: Test, found: ReadonlyArray<ReadRun>, runIds: ReadonlyArray<string>) => {
  t.equal(found.length, runIds.length, 'one run per writer, none twice')
  runIds.forEach((runId, w) => {
    const run = found.find((r) => r.run_id === runId)
    t.strictSame(run, expected(w, runId), `writer ${w}: FINISHED with exactly its params, ${POINTS} points, artifact`)
  })
}

/** The retry policy the writers use: MLflow's, with shorter waits. */
const quickRetries = { MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.5', MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0.2' }

const writersOver = (
  t: Test,
  experiment: string,
  count: number,
  urls: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  hold = false
): Array<Writer> =>
  Array.from({ length: count }, (_, w) => startWriter(t, { experiment, writer: w, url: urls[w % urls.length] as string, points: POINTS, hold, env }))

if (team !== undefined) {
  const [a, b] = team.replicas as [(typeof team.replicas)[0], (typeof team.replicas)[0]]

  // The two cases that break nothing share the team side by side; the restart's writers write
  // their first halves beside them, and the database stops once they are done; the replica's
  // death (the team is then one replica short) comes last.
  t.jobs = 3

  const sixteen = t.test('16 writer processes over two replicas on one PostgreSQL: every run FINISHED with exactly its data', async (t) => {
    const home = tempDir(t, 'charmory-team-home-')
    const writers = writersOver(t, 'team-16', 16, [a.url, b.url], { ARMORY_HOME: home, ...quickRetries })
    const results = await Promise.all(writers.map((w) => w.done))
    t.strictSame(results.map((r) => r.left), results.map(() => undefined), 'every evaluation succeeded')
    const runIds = results.map((r) => r.runId as string)
    // read through one replica: the runs written through the other are in the same database,
    // their artifacts in the same folder
    checkRuns(t, await readRuns(team.python, a.url, 'team-16'), runIds)
  })

  const served = t.test('charmory-track server --backend-store-uri postgresql+psycopg2://...: one more replica, the local runs synced into the database', async (t) => {
    const home = tempDir(t, 'charmory-team-home-')
    const local = right(
      await run(evaluate({ experiment: 'team-served', runName: 'from a laptop', resultsArtifact: false }, async () => ({ accuracy: 0.5 })), {
        sink: localSink({ dir: join(home, 'mlruns') })
      })
    )
    const port = await freePort()
    const address = `http://127.0.0.1:${port}`
    const flags = ['--port', String(port), '--backend-store-uri', team.postgres.uri, '--artifacts-destination', team.artifacts, '--workers', '1']
    const { command, args } = tsNode(join(root, 'lib/cli/main.ts'), ['server', ...flags])
    const env = childEnv({ ARMORY_HOME: home, MLFLOW_TRACKING_URI: undefined, PATH: `${dirname(team.python)}:${process.env['PATH']}` })
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => void child.kill('SIGKILL'))
    let stdout = ''
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
    await new Promise<void>((ok, fail) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d
        if (stdout.includes('MLflow is serving at')) ok()
      })
      void exited.then(() => fail(new Error(`charmory-track server exited early:\n${stderr}`)))
    })
    t.match(stdout, `synced 1 of 1 run to ${address}: 1 param, 1 metric point`)
    t.match(stdout, `\nMLflow is serving at ${address} (Ctrl+C stops it)\n`)
    // the run is in the team's database: a replica that was already running serves it
    const [served] = await readRuns(team.python, a.url, 'team-served')
    t.match(served, { run_name: 'from a laptop', status: 'FINISHED', histories: { accuracy: [[0, 0.5]] } })
    t.not(served?.run_id, undefined)
    t.not(local.runId, '')
    child.kill('SIGINT')
    t.equal(await exited, 0, stderr)
    t.match(stdout, /mlflow server stopped\n$/)
  })

  const restarted = t.test('PostgreSQL restarted in the middle: the runs complete through the retry policy, nothing lost, no point twice', async (t) => {
    const home = tempDir(t, 'charmory-team-home-')
    const writers = writersOver(t, 'team-restart', 8, [a.url, b.url], { ARMORY_HOME: home, ...quickRetries }, true)
    // every writer is half-way through its run when the database stops; it stays down until a
    // writer has had a request refused and is retrying it
    await Promise.all(writers.map((w) => w.seen(/^half$/)))
    await Promise.all([sixteen, served])
    team.postgres.stop()
    try {
      for (const w of writers) w.goOn()
      await firstSeen(writers, /^warn .*retry/)
    } finally {
      team.postgres.start()
    }
    const results = await Promise.all(writers.map((w) => w.done))
    t.strictSame(results.map((r) => r.left), results.map(() => undefined), 'every evaluation succeeded')
    const retried = writers.filter((w) => w.lines().some((l) => /^warn .*retry/.test(l)))
    t.ok(retried.length > 0, `${retried.length} writers retried a refused request`)
    checkRuns(t, await readRuns(team.python, b.url, 'team-restart'), results.map((r) => r.runId as string))
  })

  t.test('a replica killed in the middle, with the offline fallback: its runs go on locally, and sync completes them', async (t) => {
    await restarted
    const home = tempDir(t, 'charmory-team-home-')
    const env = {
      ARMORY_HOME: home,
      CHARMORY_TRACK_FALLBACK: 'local',
      MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1',
      MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1',
      MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0.1'
    }
    const writers = writersOver(t, 'team-failover', 8, [a.url, b.url], env, true)
    await Promise.all(writers.map((w) => w.seen(/^half$/)))
    await b.kill!()
    for (const w of writers) w.goOn()
    const results = await Promise.all(writers.map((w) => w.done))
    t.strictSame(results.map((r) => r.left), results.map(() => undefined), 'every evaluation succeeded, also on the lost replica')
    const onB = writers.filter((w) => w.url === b.url)
    for (const w of onB) t.ok(w.lines().some((l) => /^warn .*cannot be reached/.test(l)), `writer ${w.writer} went on locally, saying so`)
    for (const w of writers.filter((w) => w.url === a.url)) {
      t.notOk(w.lines().some((l) => /cannot be reached/.test(l)), `writer ${w.writer} kept its replica`)
    }
    const runIds = results.map((r) => r.runId as string)
    const store = join(home, 'mlruns')
    const before = right(await LocalStore.listRuns(store)())
    t.strictSame(
      onB.map((w) => before.find((r) => r.runId === runIds[w.writer])?.synced),
      onB.map(() => false),
      "the lost replica's runs are unsynced in the local store"
    )

    // what `charmory-track sync --to <the other replica>` does on a team member's machine
    const { command, args } = tsNode(join(root, 'lib/cli/main.ts'), ['sync', '--to', a.url])
    const sync = spawn(command, args, { cwd: root, env: childEnv({ ARMORY_HOME: home, MLFLOW_TRACKING_URI: undefined }), stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    sync.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    sync.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    const code = await new Promise<number | null>((ok) => sync.once('close', ok))
    t.equal(code, 0, out)
    t.match(out, new RegExp(`^synced ${onB.length} of ${onB.length} runs? to ${a.url.replace(/\./g, '\\.')}`, 'm'))
    const after = right(await LocalStore.listRuns(store)())
    t.ok(after.every((r) => r.synced === true), 'every local run is synced')
    checkRuns(t, await readRuns(team.python, a.url, 'team-failover'), runIds)
  })
}
