// A team's deployment for the specs: one PostgreSQL, MLflow server replicas on it sharing one
// artifact folder, writer processes (spec/support/team-writer.ts), and MLflow's Python client
// to read back what arrived (spec/support/python/read_runs.py).
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { mlflowExecutable, startMlflowServer, type MlflowServer } from './mlflow-server.js'
import { childEnv, root, tsNode } from './local-store.js'
import { postgresBinaries, postgresMissing, startPostgres, type Postgres } from './postgres.js'

interface TapLike {
  readonly teardown: (f: () => unknown) => void
  readonly fail: (message: string) => void
  readonly comment: (message: string) => void
}

export interface Team {
  readonly postgres: Postgres
  readonly replicas: ReadonlyArray<MlflowServer>
  /** The artifact folder every replica serves (`--artifacts-destination`). */
  readonly artifacts: string
  /** The venv's python, with MLflow's client. */
  readonly python: string
}

/**
 * PostgreSQL and `replicas` MLflow servers on one database, stopped and removed when the test
 * ends. Without PostgreSQL or Python it returns undefined after a loud comment (the caller
 * skips); in CI (CI=true) that is a failure. The first replica creates the schema before the
 * others start: two servers migrating one fresh database at once can fail.
 */
export const teamFor = async (t: TapLike, options: { readonly replicas?: number; readonly workers?: number } = {}): Promise<Team | undefined> => {
  const mlflow = mlflowExecutable()
  const missing =
    postgresBinaries() === undefined
      ? postgresMissing
      : mlflow === undefined
        ? 'the PostgreSQL specs need Python 3 and MLflow: run `bash scripts/mlflow-venv.sh`'
        : undefined
  if (missing !== undefined || mlflow === undefined) {
    if (process.env['CI'] === 'true') t.fail(missing ?? '')
    else t.comment(`SKIPPING: ${missing ?? ''}`)
    return undefined
  }
  const postgres = await startPostgres()
  const artifacts = mkdtempSync(join(tmpdir(), 'charmory-team-artifacts-'))
  const replicas: Array<MlflowServer> = []
  t.teardown(async () => {
    await Promise.all(replicas.map((r) => r.stop()))
    for (const r of replicas) rmSync(r.dir, { recursive: true, force: true })
    postgres.remove()
    rmSync(artifacts, { recursive: true, force: true })
  })
  const start = () =>
    startMlflowServer({ backendStoreUri: postgres.uri, artifactsDestination: artifacts, workers: options.workers ?? 2 })
  replicas.push(await start())
  const rest = await Promise.all(Array.from({ length: (options.replicas ?? 2) - 1 }, start))
  replicas.push(...rest)
  return { postgres, replicas, artifacts, python: join(dirname(mlflow), 'python') }
}

// -------------------------------------------------------------------------------------
// writers
// -------------------------------------------------------------------------------------

export interface WriterResult {
  readonly runId?: string
  readonly left?: string
  readonly message?: string
}

export interface Writer {
  readonly writer: number
  readonly url: string
  readonly lines: () => ReadonlyArray<string>
  /** Resolves once a line matches. */
  readonly seen: (pattern: RegExp) => Promise<void>
  /** Lets a writer started with `hold` go on past half its points. */
  readonly goOn: () => void
  /** The `result` line, once the process has exited 0; rejects with its output otherwise. */
  readonly done: Promise<WriterResult>
  readonly child: ChildProcess
}

const writerScript = join(root, 'spec/support/team-writer.ts')

/** Starts writer `writer` against `url`, as its own process. */
export const startWriter = (
  t: { readonly teardown: (f: () => unknown) => void },
  o: { readonly experiment: string; readonly writer: number; readonly url: string; readonly points: number; readonly hold?: boolean; readonly env?: Record<string, string | undefined> }
): Writer => {
  const { command, args } = tsNode(writerScript, [o.experiment, String(o.writer), String(o.points), o.hold === true ? '1' : '0'])
  const child = spawn(command, args, { cwd: root, env: childEnv({ ...o.env, MLFLOW_TRACKING_URI: o.url }), stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => void child.kill('SIGKILL'))
  const lines: Array<string> = []
  const waiting: Array<{ pattern: RegExp; ok: () => void }> = []
  let buffer = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)))
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d
    const parts = buffer.split('\n')
    buffer = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      for (const w of waiting.filter((w) => w.pattern.test(line))) {
        waiting.splice(waiting.indexOf(w), 1)
        w.ok()
      }
    }
  })
  const done = new Promise<WriterResult>((ok, fail) =>
    child.once('close', (code, signal) => {
      const result = lines.find((l) => l.startsWith('result '))
      if (code === 0 && result !== undefined) ok(JSON.parse(result.slice('result '.length)) as WriterResult)
      else fail(new Error(`writer ${o.writer} exited with ${code ?? signal}:\n${lines.join('\n').slice(-2000)}\n${stderr}`))
    })
  )
  const seen = (pattern: RegExp): Promise<void> =>
    lines.some((l) => pattern.test(l))
      ? Promise.resolve()
      : Promise.race([
          new Promise<void>((ok) => waiting.push({ pattern, ok })),
          done.then(
            () => {
              if (!lines.some((l) => pattern.test(l))) throw new Error(`writer ${o.writer} ended without printing ${pattern}`)
            },
            (e: unknown) => Promise.reject(e)
          )
        ])
  const goOn = (): void => void child.stdin.end('go\n')
  return { writer: o.writer, url: o.url, lines: () => lines, seen, goOn, done, child }
}

/** Resolves once any of `writers` prints a line matching `pattern`; rejects if all end without one. */
export const firstSeen = (writers: ReadonlyArray<Writer>, pattern: RegExp): Promise<void> =>
  new Promise((ok, fail) => {
    let left = writers.length
    for (const w of writers) {
      w.seen(pattern).then(ok, () => {
        if (--left === 0) fail(new Error(`no writer printed ${pattern}`))
      })
    }
  })

// -------------------------------------------------------------------------------------
// reading back
// -------------------------------------------------------------------------------------

export interface ReadRun {
  readonly run_id: string
  readonly run_name: string
  readonly status: string
  readonly params: Record<string, string>
  readonly histories: Record<string, Array<[number, number, number]>>
  readonly artifacts: ReadonlyArray<string>
  readonly writer_txt: string | null
}

/** Every run of `experiment`, read through `url` by MLflow's Python client. */
export const readRuns = (python: string, url: string, experiment: string): Promise<ReadonlyArray<ReadRun>> =>
  new Promise((ok, fail) =>
    execFile(
      python,
      [join(root, 'spec/support/python/read_runs.py'), url, experiment],
      { cwd: root, env: childEnv(), maxBuffer: 256 * 2 ** 20 },
      (error, stdout, stderr) => (error === null ? ok((JSON.parse(stdout) as { runs: Array<ReadRun> }).runs) : fail(new Error(`${error.message}\n${stderr}`)))
    )
  )
