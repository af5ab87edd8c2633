// The local runs listing of issue 12: a store of 1,000 runs holding 10,000,000 metric points in
// all, listed as `charmory-track runs` lists it (the runs' table lines and a search), first with
// no summaries (every journal read, the summaries written), then with them; and the command
// itself as a process, start-up included.
import * as E from 'fp-ts/lib/Either.js'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Errors, LocalStore } from 'charmory-track'

import { localQuery } from '../lib/local/LocalQuery.js'
import * as Codecs from '../lib/local/Codecs.js'
import * as Layout from '../lib/local/Layout.js'
import * as Registry from '../lib/local/Registry.js'
import { nodeTs, root } from './support/child.js'
import { figure, num, show, table, type Figure } from './support/stats.js'
import { keyOf, valueOf } from './support/workload.js'

export interface SummaryResult {
  readonly runs: number
  readonly points: number
  readonly storeMb: number
  readonly cold: Figure | undefined
  readonly warm: Figure | undefined
  readonly command: Figure | undefined
  readonly error: string | undefined
}

/** Writes `runs` finished runs of `points` points each straight into a store's journals. */
const writeStore = async (dir: string, runs: number, points: number): Promise<number> => {
  await Registry.ensureStore(dir)()
  const experimentId = await Registry.registerExperiment(dir, 'bench-listing')()
  if (E.isLeft(experimentId)) throw new Error(Errors.describeError(experimentId.left))
  let bytes = 0
  for (let r = 0; r < runs; r++) {
    const runId = r.toString(16).padStart(32, '0')
    mkdirSync(Layout.runDir(dir, runId), { recursive: true })
    const lines = [
      Codecs.encodeRecord({ t: 'start', format: 1, runId, experimentId: experimentId.right, runName: `run-${r}`, startTime: 1_700_000_000_000 + r, tags: [['mlflow.runName', `run-${r}`]] }),
      Codecs.encodeRecord({ t: 'params', params: Array.from({ length: 20 }, (_, k) => [`p${k}`, `v${r}.${k}`] as [string, string]) })
    ]
    for (let first = 0; first < points; first += 1000) {
      const batch: Array<string> = []
      for (let i = first; i < Math.min(points, first + 1000); i++) batch.push(Codecs.encodePoint(JSON.stringify(keyOf(i)), valueOf(i), 1_700_000_000_000 + i, i))
      lines.push(Codecs.encodePoints(batch))
    }
    lines.push(Codecs.encodeRecord({ t: 'end', status: 'FINISHED', endTime: 1_700_000_100_000 + r }))
    const text = lines.join('')
    bytes += Buffer.byteLength(text)
    writeFileSync(Layout.journalPath(dir, runId), text)
  }
  return bytes
}

/** What `charmory-track runs` reads: the table's lines and a search of the runs. */
const listing = async (dir: string, expected: number): Promise<number> => {
  const start = performance.now()
  const lines = await LocalStore.listRuns(dir)()
  const found = await localQuery(dir).searchRuns({ maxResults: 50_000 })()
  const seconds = (performance.now() - start) / 1000
  if (E.isLeft(lines)) throw new Error(Errors.describeError(lines.left))
  if (E.isLeft(found)) throw new Error(Errors.describeError(found.left))
  if (lines.right.length !== expected || found.right.runs.length !== expected) throw new Error(`listed ${lines.right.length} and found ${found.right.runs.length} runs of ${expected}`)
  return seconds
}

export const summarySection = async (
  o: { readonly runs: number; readonly points: number; readonly reps: number },
  log: (line: string) => void
): Promise<SummaryResult> => {
  log(`\n## 7. Listing local runs: ${num(o.runs)} runs holding ${num(o.points)} points in all\n`)
  const parent = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
  const home = mkdtempSync(join(parent, 'charmory-bench-listing-'))
  const dir = join(home, 'mlruns')
  try {
    const bytes = await writeStore(dir, o.runs, Math.floor(o.points / o.runs))
    log(`  store: ${num(bytes / 2 ** 20)} MiB of journals`)
    const cold = await listing(dir, o.runs)
    log(`  first listing, no summaries yet (every journal read, summaries written): ${num(cold)} s`)
    const warm: Array<number> = []
    for (let rep = 0; rep < o.reps; rep++) warm.push(await listing(dir, o.runs))
    log(`  listing with the summaries: ${show(figure(warm), ' s')}`)
    const command: Array<number> = []
    const [cmd, args] = nodeTs(join(root, 'lib/cli/main.ts'), ['runs', '--max', String(o.runs)])
    for (let rep = 0; rep < o.reps; rep++) {
      const start = performance.now()
      execFileSync(cmd, args, { cwd: root, env: { ...process.env, ARMORY_HOME: home, MLFLOW_TRACKING_URI: '' }, stdio: ['ignore', 'ignore', 'inherit'] })
      command.push((performance.now() - start) / 1000)
    }
    log(`  \`charmory-track runs --max ${o.runs}\` as a process (node and tsx start-up included): ${show(figure(command), ' s')}`)
    return { runs: o.runs, points: o.points, storeMb: bytes / 2 ** 20, cold: figure([cold]), warm: figure(warm), command: figure(command), error: undefined }
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e)
    log(`  FAILED: ${error}`)
    return { runs: o.runs, points: o.points, storeMb: 0, cold: undefined, warm: undefined, command: undefined, error }
  } finally {
    rmSync(home, { recursive: true, force: true })
  }
}

export const summaryTable = (r: SummaryResult): string =>
  r.warm === undefined
    ? `listing: failed: ${r.error ?? '?'}`
    : table(
        [`${num(r.runs)} local runs, ${num(r.points)} points (${num(r.storeMb)} MiB of journals)`, 'seconds'],
        [
          ['first listing: every journal read, summaries written', show(r.cold as Figure)],
          ['listing with the summaries (table lines and a search)', show(r.warm)],
          ['`charmory-track runs` as a process, start-up included', show(r.command as Figure)]
        ]
      )
