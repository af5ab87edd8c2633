// `npm run bench`: starts one real MLflow server (the pinned version from .venv, SQLite store,
// on 127.0.0.1), prints its settings, runs the sections (metric ingest, tracking overhead,
// memory, local store) and prints their tables and the goals, then stops the server, also on
// error, on interrupt and at the deadline. It asserts no timing; see bench/README.md.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { mlflowExecutable, removeServerDir, startMlflowServer, type MlflowServer } from '../spec/support/mlflow-server.js'
import { bundleSection, bundleTable, type BundleResult } from './bundle.js'
import { goals } from './goals.js'
import { profileSection } from './profile.js'
import {
  ingestSection,
  ingestTable,
  localSection,
  localTable,
  memorySection,
  memoryTable,
  overheadSection,
  overheadTable,
  pythonOf,
  type Context,
  type IngestResult,
  type LocalResult,
  type MemoryResult,
  type OverheadResult
} from './sections.js'
import { commandLineWith, machine, settingsFrom } from './settings.js'
import { childEnv, killChildren, root } from './support/child.js'
import { defaultQueueOptions } from '../lib/mlflow/MetricQueue.js'

const settings = settingsFrom(process.argv.slice(2))
const log = (line: string): void => void process.stdout.write(`${line}\n`)
const started = Date.now()

// The server and every child inherit this: no telemetry, nothing but loopback.
Object.assign(process.env, childEnv())

let server: MlflowServer | undefined
let stopping: Promise<void> | undefined
const stop = (): Promise<void> =>
  (stopping ??= (async () => {
    killChildren()
    if (server !== undefined) {
      await server.stop()
      removeServerDir(server)
    }
  })())

const abort = (why: string, code: number) => {
  log(`\n${why}: stopping the server and the children`)
  void stop().finally(() => process.exit(code))
}
const deadline = setTimeout(() => abort(`deadline of ${settings.deadlineMinutes} minutes reached`, 3), settings.deadlineMinutes * 60_000)
process.once('SIGINT', () => abort('interrupted', 130))
process.once('SIGTERM', () => abort('terminated', 143))

const main = async (): Promise<void> => {
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) throw new Error('MLflow is not available: install Python 3 and run scripts/mlflow-venv.sh')
  const python = pythonOf(mlflow)
  log(`# charmory-track bench${settings.quick ? ' (--quick)' : ''}\n`)
  for (const [k, v] of Object.entries(machine(python))) log(`- ${k}: ${v}`)
  // the browser bundle's size is the one section that needs no server
  const needsServer = settings.profile || [...settings.sections].some((s) => s !== 'bundle')
  if (needsServer) {
    server = await startMlflowServer({
      workers: settings.workers,
      ...(settings.tmpfs ? { dir: mkdtempSync(join('/dev/shm', 'charmory-bench-')) } : {})
    })
    log(`- server: ${commandLineWith(server.dir) ?? 'mlflow server'} (${server.url})`)
    log(`- server store: ${settings.tmpfs ? 'tmpfs (/dev/shm): no disk fsync times in the figures' : 'temporary folder on disk'}`)
  }
  log(`- library queue: ${JSON.stringify(defaultQueueOptions)}`)
  log(`- figures: median [min–max] of ${settings.reps} repetitions; ingest rows ${settings.points.toLocaleString('en-US')} points`)
  const ctx: Context = { settings, url: server?.url ?? '', python, log }

  if (settings.profile) {
    const text = await profileSection(ctx)
    mkdirSync(join(root, '.bench'), { recursive: true })
    writeFileSync(join(root, '.bench', 'profile.md'), text)
    return
  }
  const results: {
    overhead?: OverheadResult
    ingest?: IngestResult
    memory?: MemoryResult
    local?: LocalResult
    bundle?: BundleResult
  } = {}
  if (settings.sections.has('overhead')) results.overhead = await overheadSection(ctx)
  if (settings.sections.has('ingest')) results.ingest = await ingestSection(ctx)
  if (settings.sections.has('memory')) results.memory = await memorySection(ctx)
  if (settings.sections.has('local')) results.local = await localSection(ctx)
  if (settings.sections.has('bundle')) results.bundle = await bundleSection(log)

  const minutes = (Date.now() - started) / 60_000
  const report = [
    `\n# Summary (${minutes.toFixed(1)} minutes, load average at the end ${machine(python)['load average']})\n`,
    results.ingest === undefined ? '' : `${ingestTable(results.ingest)}\n`,
    results.overhead === undefined ? '' : `${overheadTable(results.overhead)}\n`,
    results.memory === undefined ? '' : `${memoryTable(results.memory)}\n`,
    results.local === undefined ? '' : `${localTable(results.local)}\n`,
    results.bundle === undefined ? '' : `${bundleTable(results.bundle)}\n`,
    goals(results)
  ].join('\n')
  log(report)
  mkdirSync(join(root, '.bench'), { recursive: true })
  writeFileSync(join(root, '.bench', 'last.md'), report)
  writeFileSync(join(root, '.bench', 'last.json'), JSON.stringify({ settings: { ...settings, sections: [...settings.sections] }, results }, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v), 2))
}

main()
  .catch((e: unknown) => {
    log(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exitCode = 1
  })
  .finally(async () => {
    clearTimeout(deadline)
    await stop()
  })
