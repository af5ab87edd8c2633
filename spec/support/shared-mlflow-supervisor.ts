// The supervisor of a tap run's shared MLflow server (see shared-mlflow.ts): starts the server,
// publishes its address, and stops it on SIGTERM or when the owning tap process is gone. A
// stop asked for while the server is still starting (a short tap run that never needed it)
// waits for the start, then stops it: the server is its own process group and would outlive
// a supervisor that died first.
import { join } from 'node:path'
import { alive, keepTemplate, publish } from './shared-mlflow.js'
import { mlflowExecutable, removeServerDir, startMlflowServer, type MlflowServer } from './mlflow-server.js'

const owner = Number(process.argv[3])
let server: MlflowServer | undefined
let stopping = false
const stop = async (): Promise<void> => {
  stopping = true
  if (server === undefined) return
  const started = server
  server = undefined
  await started.stop()
  removeServerDir(started)
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
const watch = setInterval(() => {
  if (!alive(owner)) void stop()
}, 500)

if (mlflowExecutable() === undefined) {
  publish({ error: 'MLflow is not available: install Python 3 and run scripts/mlflow-venv.sh' })
  process.exit(0)
}
server = await startMlflowServer().catch((e: unknown) => {
  publish({ error: e instanceof Error ? e.message : String(e) })
  return process.exit(0)
})
if (stopping) await stop()
else {
  // no client knows the server yet: its store is as migrated, with nothing in it
  keepTemplate(join(server.dir, 'mlflow.db'))
  publish({ server: { url: server.url, port: server.port, dir: server.dir } })
}
