import t from 'tap'
import { homedir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Agent } from 'node:http'
import { localStoreOf, loggerOf, nodeIo, withServer } from '../../lib/cli/io.js'
import { testIo } from '../support/local-cli.js'

t.test('nodeIo is the real process; onStop listens to SIGINT and SIGTERM until told to stop', async (t) => {
  const io = nodeIo()
  t.equal(io.env, process.env)
  t.equal(io.home, homedir())
  t.equal(io.cwd, process.cwd())
  t.equal(io.stdout, process.stdout)
  t.equal(io.stderr, process.stderr)
  t.equal(io.fetch, undefined)
  const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]
  let calls = 0
  const unsubscribe = io.onStop(() => void calls++)
  t.strictSame([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], [before[0]! + 1, before[1]! + 1])
  process.emit('SIGTERM', 'SIGTERM')
  t.equal(calls, 1)
  unsubscribe()
  t.strictSame([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')], before)
})

t.test('the commands read the store of a file: MLFLOW_TRACKING_URI, else $ARMORY_HOME/mlruns', async (t) => {
  const store = (env: Record<string, string>) => {
    const io = testIo(t, env)
    return [localStoreOf(io), io.home] as const
  }
  const [plain, home] = store({})
  t.equal(plain, join(home, '.armory', 'mlruns'))
  t.equal(store({ ARMORY_HOME: '/data/armory' })[0], '/data/armory/mlruns')
  t.equal(store({ MLFLOW_TRACKING_URI: 'file:///data/runs' })[0], '/data/runs')
  const [server, serverHome] = store({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' })
  t.equal(server, join(serverHome, '.armory', 'mlruns'), 'a server URI: the local store is the default one')
  const [db, dbHome] = store({ MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' })
  t.equal(db, join(dbHome, '.armory', 'mlruns'), 'a database URI: the default store too')
  const [bad, badHome] = store({ MLFLOW_TRACKING_URI: 'file://otherhost/data' })
  t.equal(bad, join(badHome, '.armory', 'mlruns'), 'a file: URI that names no folder here: the default store')
  const [relative, relativeHome] = store({ MLFLOW_TRACKING_URI: 'some-runs' })
  t.not(relative, join(relativeHome, '.armory', 'mlruns'))
  t.match(relative, /\/some-runs$/, 'a plain path, from the working folder')
})

t.test('warnings go to standard error', async (t) => {
  const io = testIo(t)
  loggerOf(io).warn('careful')
  loggerOf(io).info('fyi')
  t.equal(io.err(), 'charmory-track: warning: careful\ncharmory-track: fyi\n')
})

t.test('withServer releases the connection whatever the command did, and warns of a release that failed', async (t) => {
  const io = testIo(t)
  t.capture(Agent.prototype, 'destroy', () => {
    throw new Error('the socket is gone')
  })
  const code = await withServer(io, 'http://127.0.0.1:9', {}, async (server) => (E.isRight(server) ? 7 : 1))
  t.equal(code, 7, "the command's own exit code")
  t.match(io.err(), /^charmory-track: warning: releasing the connection: task failed: the socket is gone\n$/)
})
