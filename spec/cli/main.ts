import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { join } from 'node:path'
import * as O from 'fp-ts/lib/Option.js'
import { LocalStore, evaluate, localSink, run, VERSION } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { fixedSource } from '../support/behaviour.js'
import { childEnv, right, root, runTs, tempDir, tsNode } from '../support/local-store.js'
import { freePort, mlflowExecutable } from '../support/mlflow-server.js'
import { readRun, runIdsOf } from '../support/mlflow-read.js'

const main = join(root, 'lib/cli/main.ts')

t.test('in process: main runs the command line of the process and sets the exit code', async (t) => {
  const argv = process.argv
  const write = process.stdout.write
  let out = ''
  process.argv = [argv[0]!, main, '--version']
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write
  try {
    await import('../../lib/cli/main.js')
  } finally {
    process.argv = argv
    process.stdout.write = write
  }
  t.equal(out, `${VERSION}\n`)
  t.equal(process.exitCode, 0)
  process.exitCode = undefined
})

t.test('as a program: help, version, errors on standard error with a non-zero exit', async (t) => {
  const help = await runTs(main, ['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /^Usage: charmory-track <command>/)
  t.equal((await runTs(main, ['--version'])).stdout, `${VERSION}\n`)
  for (const command of ['server', 'sync', 'runs']) {
    const r = await runTs(main, [command, '--help'])
    t.equal(r.code, 0)
    t.match(r.stdout, new RegExp(`^Usage: charmory-track ${command}`))
  }
  const unknown = await runTs(main, ['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /unknown command "frobnicate"/)
  t.equal(unknown.stdout, '')
  const badFlag = await runTs(main, ['runs', '--bogus'])
  t.equal(badFlag.code, 2)
  t.match(badFlag.stderr, /Unknown option '--bogus'/)
})

t.test('as a program: runs and sync --dry-run read the store of $ARMORY_HOME', async (t) => {
  const home = tempDir(t)
  const dir = join(home, 'mlruns')
  const done = right(
    await run(evaluate({ experiment: 'cli', runName: 'one' }, () => ({ a: 1 })), {
      sink: openStore(dir),
      source: () => fixedSource(O.none)
    })
  )
  const env = childEnv({ ARMORY_HOME: home, MLFLOW_TRACKING_URI: undefined })
  const runs = await runTs(main, ['runs'], env)
  t.equal(runs.code, 0, runs.stderr)
  t.match(runs.stdout, new RegExp(`^EXPERIMENT .*\\ncli +${done.runId} +one +FINISHED .* +1 +1 +no\\n$`))
  const dry = await runTs(main, ['sync', '--dry-run'], env)
  t.equal(dry.code, 0, dry.stderr)
  t.equal(dry.stdout, 'would sync 1 run to http://127.0.0.1:5000: 1 param, 1 metric point, 4 tags, 1 artifact\n')
})

t.test('as a program: server starts MLflow, syncs the local runs, serves, and stops on SIGINT', async (t) => {
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) {
    const message = 'the server command test needs MLflow: run `bash scripts/mlflow-venv.sh`'
    if (process.env['CI'] === 'true') t.fail(message)
    else t.comment(`SKIPPING: ${message}`)
    return
  }
  const home = tempDir(t)
  const dir = join(home, 'mlruns')
  const done = right(
    await run(
      evaluate({ experiment: 'served', runName: 'to serve' }, async (r) => {
        await r.logMetric('loss', 0.5, { step: 1, timestamp: 1000 })
        return { accuracy: 0.75 }
      }),
      { sink: openStore(dir), source: () => fixedSource(O.none) }
    )
  )
  const port = await freePort()
  const env = childEnv({ ARMORY_HOME: home, MLFLOW_TRACKING_URI: undefined, PATH: `${join(mlflow, '..')}:${process.env['PATH']}` })
  const { command, args } = tsNode(main, ['server', `--port=${port}`, '--workers', '1'])
  const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
  const address = `http://127.0.0.1:${port}`
  await new Promise<void>((ok, fail) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      if (stdout.includes('MLflow is serving at')) ok()
    })
    void exited.then(() => fail(new Error(`server exited early:\n${stderr.slice(-3000)}`)))
  })
  t.equal(stdout, `synced 1 of 1 run to ${address}: 1 param, 2 metric points, 4 tags, 1 artifact\nMLflow is serving at ${address} (Ctrl+C stops it)\n`)
  t.equal(await (await fetch(`${address}/health`)).text(), 'OK')
  const [remoteId] = await runIdsOf(address, 'served')
  const remote = await readRun(address, remoteId!)
  t.equal(remote.runName, 'to serve')
  t.equal(remote.status, 'FINISHED')
  t.strictSame(remote.metrics['loss'], [{ value: 0.5, step: 1, timestamp: 1000 }])
  t.ok(right(await LocalStore.listRuns(dir)())[0]?.synced, 'the local run is marked synced')
  t.equal(right(await LocalStore.listRuns(dir)())[0]?.runId, done.runId)

  child.kill('SIGINT')
  t.equal(await exited, 0, stderr.slice(-2000))
  t.match(stdout, /mlflow server stopped\n$/)
  await t.rejects(fetch(`${address}/health`), 'the server no longer answers')
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  t.strictSame(
    ps.split('\n').filter((line) => line.includes(`--port=${port}`) || line.includes(`--port ${port}`)),
    [],
    'no process of the server or its workers is left'
  )
})
