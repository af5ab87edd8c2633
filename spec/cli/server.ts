import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { join } from 'node:path'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, evaluate, localSink, nodePlatform, run } from 'charmory-track'
import { killGroup, serve, serverCommand, serverPlan, usage } from '../../lib/cli/server.js'
import { fakeMlflowDir, testIo } from '../support/local-cli.js'
import { tempDir } from '../support/local-store.js'
import { freePort } from '../support/mlflow-server.js'

const home = '/home/ada'
const plan = (args: Array<string>, env: Record<string, string> = {}) => serverPlan(args, env, home)

t.test('the defaults: loopback, port 5000, a SQLite store and artifacts under $ARMORY_HOME', async (t) => {
  t.strictSame(plan([]), {
    args: [
      '--host',
      '127.0.0.1',
      '--port',
      '5000',
      '--backend-store-uri',
      'sqlite:////home/ada/.armory/mlflow.db',
      '--artifacts-destination',
      '/home/ada/.armory/mlartifacts'
    ],
    address: 'http://127.0.0.1:5000',
    home: '/home/ada/.armory'
  })
  t.strictSame(plan([], { ARMORY_HOME: '/data/armory' }).args.slice(4), [
    '--backend-store-uri',
    'sqlite:////data/armory/mlflow.db',
    '--artifacts-destination',
    '/data/armory/mlartifacts'
  ])
})

t.test('flags win, in both forms; other flags pass through', async (t) => {
  t.strictSame(plan(['--port', '5001', '--workers', '2']), {
    args: [
      '--port',
      '5001',
      '--workers',
      '2',
      '--host',
      '127.0.0.1',
      '--backend-store-uri',
      'sqlite:////home/ada/.armory/mlflow.db',
      '--artifacts-destination',
      '/home/ada/.armory/mlartifacts'
    ],
    address: 'http://127.0.0.1:5001',
    home: '/home/ada/.armory'
  })
  t.strictSame(plan(['--host=0.0.0.0', '--port=6000', '--backend-store-uri=postgresql://db/x', '--artifacts-destination=s3://b']), {
    args: ['--host=0.0.0.0', '--port=6000', '--backend-store-uri=postgresql://db/x', '--artifacts-destination=s3://b'],
    address: 'http://127.0.0.1:6000',
    home: '/home/ada/.armory'
  })
  t.equal(plan(['-h', '::1', '-p', '7000']).address, 'http://[::1]:7000')
  t.equal(plan(['-h', '::']).address, 'http://127.0.0.1:5000')
  t.equal(plan(['--host', 'localhost']).address, 'http://localhost:5000')
  t.notOk(plan(['--default-artifact-root', 's3://x']).args.includes('--artifacts-destination'))
  t.notOk(plan(['--no-serve-artifacts']).args.includes('--artifacts-destination'))
  t.strictSame(plan(['--port']).args.slice(0, 2), ['--port', '--host'], 'a flag without its value goes to mlflow as given')
  t.equal(plan(['--port']).address, 'http://127.0.0.1:')
})

t.test('the environment: an http MLFLOW_TRACKING_URI gives the address, a database URI the store', async (t) => {
  t.equal(plan([], { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5055' }).address, 'http://127.0.0.1:5055')
  t.equal(plan([], { MLFLOW_TRACKING_URI: 'http://localhost' }).address, 'http://localhost:5000')
  t.equal(plan(['--port', '1'], { MLFLOW_TRACKING_URI: 'http://localhost:2' }).address, 'http://localhost:1')
  t.strictSame(plan([], { MLFLOW_TRACKING_URI: 'sqlite:////srv/mlflow.db' }).args.slice(4, 6), [
    '--backend-store-uri',
    'sqlite:////srv/mlflow.db'
  ])
  t.strictSame(plan([], { MLFLOW_TRACKING_URI: 'postgresql+psycopg2://u@db/mlflow' }).args.slice(4, 6), [
    '--backend-store-uri',
    'postgresql+psycopg2://u@db/mlflow'
  ])
  t.strictSame(plan([], { MLFLOW_TRACKING_URI: 'file:///data/runs' }).args.slice(4, 6), [
    '--backend-store-uri',
    'sqlite:////home/ada/.armory/mlflow.db'
  ])
  t.equal(plan([], { MLFLOW_TRACKING_URI: 'not a uri' }).address, 'http://127.0.0.1:5000')
  t.notOk(plan([], { MLFLOW_BACKEND_STORE_URI: 'sqlite:///x' }).args.includes('--backend-store-uri'))
  t.notOk(plan([], { MLFLOW_ARTIFACTS_DESTINATION: '/x' }).args.includes('--artifacts-destination'))
})

t.test('killGroup leaves a group that is gone alone', async (t) => {
  const child = spawn('true', [], { detached: true })
  await new Promise((ok) => child.once('exit', ok))
  t.doesNotThrow(() => killGroup(child.pid!, 'SIGTERM'))
})

t.test('--help', async (t) => {
  const io = testIo(t)
  t.equal(await serverCommand(['--help'], io), 0)
  t.equal(io.out(), usage)
})

const fast = { startMs: 20_000, stopMs: 10_000, pollMs: 50 }

const fakeIo = async (t: Parameters<typeof testIo>[0], mode: string) => {
  const bin = fakeMlflowDir(t)
  const argsFile = join(tempDir(t), 'args.jsonl')
  const port = await freePort()
  const io = testIo(t, { PATH: `${bin}:${process.env['PATH']}`, FAKE_MLFLOW: mode, FAKE_MLFLOW_ARGS: argsFile })
  return { io, port, argsFile, address: `http://127.0.0.1:${port}` }
}

t.test('start, health, sync, address; a stop signal stops the server', async (t) => {
  const { io, port, argsFile, address } = await fakeIo(t, 'serve')
  const running = serve(['--port', String(port), '--workers', '1'], io, fast)
  while (!io.out().includes('serving')) await new Promise((ok) => setTimeout(ok, 20))
  t.equal((await fetch(`${address}/health`)).status, 200)
  t.equal(io.out(), `nothing to sync: every run in ${join(io.home, '.armory', 'mlruns')} is on ${address}\nMLflow is serving at ${address} (Ctrl+C stops it)\n`)
  io.stop()
  t.equal(await running, 0)
  t.match(io.out(), /mlflow server stopped\n$/)
  t.strictSame(JSON.parse(readFileSync(argsFile, 'utf8')), [
    'server',
    '--port',
    String(port),
    '--workers',
    '1',
    '--host',
    '127.0.0.1',
    '--backend-store-uri',
    `sqlite:///${join(io.home, '.armory', 'mlflow.db')}`,
    '--artifacts-destination',
    join(io.home, '.armory', 'mlartifacts')
  ])
  t.ok(existsSync(join(io.home, '.armory')), '$ARMORY_HOME is created for the SQLite store')
  await t.rejects(fetch(`${address}/health`), 'the server is gone')
  t.equal(io.listeners(), 0, 'the stop handlers are removed')
})

t.test('a server that ignores SIGTERM is killed after the stop timeout', async (t) => {
  const { io, port, address } = await fakeIo(t, 'stubborn')
  const running = serve(['--port', String(port)], io, { ...fast, stopMs: 300 })
  while (!io.out().includes('serving')) await new Promise((ok) => setTimeout(ok, 20))
  io.stop()
  t.equal(await running, 0)
  t.match(io.err(), /not stopping/)
  await t.rejects(fetch(`${address}/health`))
})

t.test('a stop signal while the server starts stops it', async (t) => {
  const { io, port } = await fakeIo(t, 'hang')
  const running = serve(['--port', String(port)], io, fast)
  await new Promise((ok) => setTimeout(ok, 500))
  io.stop()
  t.equal(await running, 0)
  t.notMatch(io.out(), /serving/)
})

t.test('a server that does not become healthy in time is stopped, with an error', async (t) => {
  const { io, port, address } = await fakeIo(t, 'hang')
  t.equal(await serve(['--port', String(port)], io, { ...fast, startMs: 300 }), 1)
  t.equal(io.err(), `charmory-track server: mlflow server did not answer ${address}/health within 300 ms\n`)
})

t.test('a transport that cannot be had for the health checks: the error, and no server started', async (t) => {
  const io = testIo(t)
  let spawned = false
  t.capture(nodePlatform, 'transport', () => TE.left(Errors.configError('tls.caCertPath', 'cannot be read')))
  const quiet = { ...io, spawn: ((...args: Parameters<typeof io.spawn>) => ((spawned = true), io.spawn(...args))) as typeof io.spawn }
  t.equal(await serve(['--port', String(await freePort())], quiet, fast), 1)
  t.equal(io.err(), 'charmory-track server: tls.caCertPath: cannot be read\n')
  t.notOk(spawned)
})

t.test('a server that exits before it is ready: its output and code', async (t) => {
  const { io, port } = await fakeIo(t, 'crash')
  t.equal(await serve(['--port', String(port)], io, fast), 1)
  t.match(io.err(), /boom\n/)
  t.match(io.err(), /charmory-track server: mlflow server exited with code 3 before it was ready/)
})

t.test('a postgresql:// store whose driver mlflow cannot import: the way to install one', async (t) => {
  const { io, port } = await fakeIo(t, 'nodriver')
  t.equal(await serve(['--port', String(port), '--backend-store-uri', 'postgresql://u@127.0.0.1/mlflow'], io, fast), 1)
  t.match(io.err(), /No module named 'psycopg'\n/)
  t.match(
    io.err(),
    /exited with code 1 before it was ready \(its output is above\); a postgresql:\/\/ store needs a PostgreSQL driver .*pip install psycopg2-binary.*postgresql\+psycopg2:\/\/.*psycopg\[binary\]/
  )
})

t.test('the command runs the server with the standard timeouts', async (t) => {
  const { io, port } = await fakeIo(t, 'crash')
  t.equal(await serverCommand(['--port', String(port)], io), 1)
  t.match(io.err(), /exited with code 3 before it was ready/)
})

t.test('a server that exits on its own while serving', async (t) => {
  const { io, port } = await fakeIo(t, 'die')
  t.equal(await serve(['--port', String(port)], io, fast), 1)
  t.match(io.out(), /serving/)
  t.match(io.err(), /charmory-track server: mlflow server exited on its own \(code 4\)/)
})

t.test('a port another server already listens on is refused before anything starts or is synced', async (t) => {
  const { io, port, argsFile, address } = await fakeIo(t, 'serve')
  const requests: Array<string> = []
  const other = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((ok) => other.listen(port, '127.0.0.1', ok))
  t.teardown(() => new Promise<void>((ok) => other.close(() => ok())))
  // a local run that must not reach the other server
  await run(evaluate({ experiment: 'not for the other server' }, async () => ({ ok: 1 })), {
    sink: localSink({ dir: join(io.home, '.armory', 'mlruns') })
  })
  t.equal(await serve(['--port', String(port)], io, fast), 1)
  t.equal(
    io.err(),
    `charmory-track server: cannot listen on 127.0.0.1:${port} (EADDRINUSE): another server is using it. ` +
      `Choose another port with --port, or sync into that server with \`charmory-track sync --to ${address}\`\n`
  )
  t.equal(io.out(), '')
  t.strictSame(requests, [], 'nothing was sent to the other server')
  t.notOk(existsSync(argsFile), 'mlflow was not started')
})

t.test('a --port without its value is left to mlflow to refuse', async (t) => {
  const { io } = await fakeIo(t, 'crash')
  t.equal(await serve(['--port'], io, fast), 1)
  t.match(io.err(), /exited with code 3 before it was ready/)
})

t.test('mlflow missing from PATH, or not executable: how to install it', async (t) => {
  const empty = tempDir(t)
  const port = String(await freePort())
  const missing = testIo(t, { PATH: empty })
  t.equal(await serve(['--port', port], missing, fast), 1)
  t.match(missing.err(), /mlflow was not found on PATH: install it with `pip install mlflow`/)
  writeFileSync(join(empty, 'mlflow'), 'not a program')
  chmodSync(join(empty, 'mlflow'), 0o644)
  const broken = testIo(t, { PATH: empty })
  t.equal(await serve(['--port', port], broken, fast), 1)
  t.match(broken.err(), /mlflow could not be started: spawn mlflow EACCES/)
})
