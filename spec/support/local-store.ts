// Helpers for the specs of the local store, its sink, the fallback, sync and the command.
import * as E from 'fp-ts/lib/Either.js'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Errors, LocalStore, localSink, type RunRecord } from 'charmory-track'
import * as Codecs from '../../lib/local/Codecs.js'
import * as Layout from '../../lib/local/Layout.js'
import * as LocalSink from '../../lib/local/LocalSink.js'
import { nodePlatform } from '../../lib/runtime/node.js'
import * as Scope from '../../lib/Scope.js'
import type { RunView } from './behaviour.js'

type JournalRecord = Codecs.JournalRecord

/**
 * The live local sink on `dir`, as the command opens it, with a `close` that releases it (the
 * scope it was opened in).
 */
export const openStore = (
  dir: string,
  options: Omit<LocalSink.LocalSinkOptions, 'dir'> = {},
  platform: Pick<typeof nodePlatform, 'clock' | 'timers' | 'ids'> = nodePlatform
): LocalSink.LocalSink & { readonly close: () => Promise<void> } => {
  const scope = Scope.make()
  return { ...LocalSink.openStore(dir, options, platform, scope), close: async () => void (await scope.close()) }
}

/** A fresh folder, removed when the test ends. */
export const tempDir = (t: { teardown: (f: () => void) => void }, prefix = 'charmory-local-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The value of a `Right`; a `Left` throws with the error described. */
export const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

/** The error of a `Left`; a `Right` throws. */
export const left = <A>(r: E.Either<Errors.TrackError, A>): Errors.TrackError => {
  if (E.isRight(r)) throw new Error(`expected a failure, got ${JSON.stringify(r.right)}`)
  return r.left
}

export const root = resolve(new URL('../..', import.meta.url).pathname)

/** Node running TypeScript with the library's sources, for child processes. */
export const tsNode = (script: string, args: ReadonlyArray<string>): { command: string; args: Array<string> } => ({
  command: process.execPath,
  args: ['--import', 'tsx', '--conditions=charmory-track-source', script, ...args]
})

/**
 * The environment for a child process. tsx's output must stay out of tap's coverage: no V8
 * coverage, and tap's process tracking (which it adds to every child) told not to collect any.
 */
export const childEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  delete env['NODE_V8_COVERAGE']
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k]
  return env
}

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a TypeScript file as a child process to its end. */
export const runTs = (
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = childEnv(),
  input?: string
): Promise<Finished> =>
  new Promise((ok, fail) => {
    const { command, args: argv } = tsNode(script, args)
    const child = spawn(command, argv, { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.once('error', fail)
    child.once('close', (code, signal) => ok({ code, signal, stdout, stderr }))
    child.stdin.end(input ?? '')
  })

/** A run of the store as the shared suite reads runs: artifacts with their bytes, histories sorted. */
export const viewOf = async (dir: string, stored: LocalStore.StoredRun): Promise<RunView> => {
  const artifacts: Record<string, Uint8Array> = {}
  for (const a of stored.artifacts) artifacts[a.path] = right(await LocalStore.readArtifact(dir, stored.runId, a.path)())
  const metrics = Object.fromEntries(
    Object.entries(stored.metricHistories).map(([k, points]) => [
      k,
      [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
    ])
  )
  return {
    status: stored.status,
    startTime: stored.startTime,
    endTime: stored.endTime,
    params: { ...stored.paramValues },
    metrics,
    tags: { ...stored.tags },
    artifacts
  }
}

/** A memory-sink run in the shape the local store's reader gives (ids left out). */
export const asStored = (r: RunRecord) => ({
  runName: r.runName,
  status: r.status,
  startTime: r.startTime,
  endTime: r.endTime,
  params: r.params,
  metrics: r.metrics,
  tags: r.tags,
  artifacts: r.artifacts
})

/**
 * Writes a run into the store in `dir` by hand, as an older version of the library could have
 * (an artifact path today's rule refuses, say): its journal, then each artifact's file.
 */
export const writeOldRun = async (
  dir: string,
  experiment: string,
  runId: string,
  records: ReadonlyArray<JournalRecord>,
  artifacts: Readonly<Record<string, Uint8Array>> = {}
): Promise<void> => {
  const experimentId = right(await openStore(dir).experiment(experiment)())
  const journal = Layout.journalPath(dir, runId)
  mkdirSync(dirname(journal), { recursive: true })
  const start: JournalRecord = { t: 'start', format: 1, runId, experimentId, runName: runId, startTime: 1000, tags: [] }
  writeFileSync(journal, [start, ...records].map((r) => Codecs.encodeRecord(r)).join(''))
  for (const [path, bytes] of Object.entries(artifacts)) {
    const file = join(Layout.runDir(dir, runId), 'artifacts', ...path.split('/'))
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, bytes)
  }
}

/** Sets (or, for undefined, unsets) environment variables of this process for one test. */
export const withVars = (t: { teardown: (f: () => void) => void }, vars: Record<string, string | undefined>): void => {
  for (const [name, value] of Object.entries(vars)) {
    const saved = process.env[name]
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
    t.teardown(() => {
      if (saved === undefined) delete process.env[name]
      else process.env[name] = saved
    })
  }
}
