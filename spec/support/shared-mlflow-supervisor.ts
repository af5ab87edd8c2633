// The supervisor of a tap run's shared MLflow server (see shared-mlflow.ts): starts the server,
// publishes its address, and stops it on SIGTERM or when the owning tap process is gone.
import { alive, publish } from './shared-mlflow.js'
import { mlflowExecutable, removeServerDir, startMlflowServer } from './mlflow-server.js'

const owner = Number(process.argv[3])
if (mlflowExecutable() === undefined) {
  publish({ error: 'MLflow is not available: install Python 3 and run scripts/mlflow-venv.sh' })
  process.exit(0)
}
const server = await startMlflowServer().catch((e: unknown) => {
  publish({ error: e instanceof Error ? e.message : String(e) })
  return process.exit(0)
})
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await server.stop()
  removeServerDir(server)
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
publish({ server: { url: server.url, port: server.port, dir: server.dir } })
const watch = setInterval(() => {
  if (!alive(owner)) {
    clearInterval(watch)
    void stop()
  }
}, 500)
