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
import { commandLineWith, machine, ON_DEFAULT_SERVER, settingsFrom } from './settings.js'
import { teamConfig, teamGoals, teamTable, type ConfigResult } from './team.js'
import { summarySection, summaryTable, type SummaryResult } from './summary.js'
import { childEnv, killChildren, root } from './support/child.js'
import { defaultQueueOptions } from '../lib/mlflow/MetricQueue.js'
import { num } from './support/stats.js'

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

/** What the sections measured, for the report. */
interface Results {
  overhead?: OverheadResult
  ingest?: IngestResult
  memory?: MemoryResult
  local?: LocalResult
  bundle?: BundleResult
  team?: ReadonlyArray<ConfigResult>
  listing?: SummaryResult
}

const main = async (): Promise<void> => {
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) throw new Error('MLflow is not available: install Python 3 and run scripts/mlflow-venv.sh')
  const python = pythonOf(mlflow)
  log(`# charmory-track bench${settings.quick ? ' (--quick)' : ''}\n`)
  for (const [k, v] of Object.entries(machine(python))) log(`- ${k}: ${v}`)
  log(`- library queue: ${JSON.stringify(defaultQueueOptions)}`)
  const results: Results = {}
  // the team and listing sections start what they measure; the bundle and the overhead need no server
  if (settings.sections.has('listing')) results.listing = await summarySection(settings.listing, log)
  if (settings.sections.has('team')) {
    log(`\n## 6. Servers and clients (issue 12): ${num(settings.team.points)} points a row, ${settings.team.writers.join(', ')} concurrent writers sending ${num(settings.team.writerPoints)} points in all`)
    const team: Array<ConfigResult> = []
    for (const config of settings.team.configs) team.push(await teamConfig(settings.team, config, python, log))
    results.team = team
  }
  if (settings.profile || ON_DEFAULT_SERVER.some((s) => settings.sections.has(s))) {
    server = await startMlflowServer({
      workers: settings.workers,
      ...(settings.tmpfs ? { dir: mkdtempSync(join('/dev/shm', 'charmory-bench-')) } : {})
    })
    log(`- server: ${commandLineWith(server.dir) ?? 'mlflow server'} (${server.url})`)
    log(`- server store: ${settings.tmpfs ? 'tmpfs (/dev/shm): no disk fsync times in the figures' : 'temporary folder on disk'}`)
  }
  log(`- figures: median [min–max] of ${settings.reps} repetitions; ingest rows ${settings.points.toLocaleString('en-US')} points`)
  const ctx: Context = { settings, url: server?.url ?? '', python, log }

  if (settings.profile) {
    const text = await profileSection(ctx)
    mkdirSync(join(root, '.bench'), { recursive: true })
    writeFileSync(join(root, '.bench', 'profile.md'), text)
    return
  }
  if (settings.sections.has('overhead')) results.overhead = await overheadSection(ctx)
  if (settings.sections.has('ingest')) results.ingest = await ingestSection(ctx)
  if (settings.sections.has('memory')) results.memory = await memorySection(ctx)
  if (settings.sections.has('local')) results.local = await localSection(ctx)
  if (settings.sections.has('bundle')) results.bundle = await bundleSection(log)
  report(results, python)
}

const report = (
  results: Results,
  python: string
): void => {
  const minutes = (Date.now() - started) / 60_000
  const report = [
    `\n# Summary (${minutes.toFixed(1)} minutes, load average at the end ${machine(python)['load average']})\n`,
    results.ingest === undefined ? '' : `${ingestTable(results.ingest)}\n`,
    results.overhead === undefined ? '' : `${overheadTable(results.overhead)}\n`,
    results.memory === undefined ? '' : `${memoryTable(results.memory)}\n`,
    results.local === undefined ? '' : `${localTable(results.local)}\n`,
    results.bundle === undefined ? '' : `${bundleTable(results.bundle)}\n`,
    results.team === undefined ? '' : `${teamTable(results.team)}\n`,
    results.listing === undefined ? '' : `${summaryTable(results.listing)}\n`,
    goals(results, [
      ...(results.team === undefined ? [] : teamGoals(results.team)),
      ...(results.listing === undefined
        ? []
        : [
            [
              `listing ${num(results.listing.runs)} local runs of ${num(results.listing.points)} points < 0.5 s`,
              results.listing.warm === undefined ? 'not measured' : `${num(results.listing.warm.median)} s`,
              results.listing.warm === undefined ? undefined : results.listing.warm.median < 0.5
            ] as const
          ])
    ])
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
