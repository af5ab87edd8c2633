// One artifact-path rule for every sink, checked against a real MLflow server: each path is
// sent to the server as it is (below the library's own check) and the name the server stored
// it under is read back. Whatever the server refuses or would rename, `validateArtifactPath`
// refuses; whatever it stores under the same name, we accept (but for `\` and drive letters,
// refused everywhere so that a store on Windows means the same). The memory, local and MLflow
// sinks then agree path by path through the run handle.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { randomUUID } from 'node:crypto'
import { Errors, Sink, ArtifactPath, evaluate, memorySink, Mlflow, mlflowSink, run } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { captureLogger } from '../support/behaviour.js'
import { right, tempDir } from '../support/local-store.js'
import { restGet } from '../support/mlflow-read.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const { logger } = captureLogger()
// A dropped keep-alive connection is retried; a 4xx answer never is, so what the server
// refuses is seen at once.
const probeConfig = Mlflow.configFromEnv({
  MLFLOW_TRACKING_URI: server.url,
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2',
  MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.1',
  MLFLOW_HTTP_REQUEST_TIMEOUT: '30'
})
const remote = await built(mlflowSink(right(probeConfig)), { logger })
t.teardown(() => remote.close())
const experimentId = right(await remote.experiment(`artifact paths ${randomUUID()}`)())

/**
 * Every file name stored in a run, recursively. A folder the server lists as another one (a
 * `%2e` folder lists the root) would list forever: paths here have at most 3 names.
 */
const storedNames = async (runId: string, path = '', depth = 0): Promise<Array<string>> => {
  if (depth > 3) return [`(the listing of ${JSON.stringify(path)} loops)`]
  const q = new URLSearchParams({ run_id: runId })
  if (path !== '') q.set('path', path)
  const listing = await restGet(server.url, `mlflow/artifacts/list?${q}`)
  const out: Array<string> = []
  for (const f of (listing['files'] ?? []) as Array<Record<string, unknown>>) {
    const p = f['path'] as string
    out.push(...(f['is_dir'] === true ? await storedNames(runId, p, depth + 1) : [p]))
  }
  return out
}

type ServerAnswer = { readonly _tag: 'refused' } | { readonly _tag: 'stored'; readonly as: ReadonlyArray<string> }

/** What the server does with `path`, sent as it is into a run of its own. */
const serverAnswer = async (path: string): Promise<ServerAnswer> => {
  const r = right(await remote.openRun({ experimentId, runName: 'probe', startTime: Date.now(), tags: [] })())
  const sent = await r.logArtifact(path, new TextEncoder().encode('x'))()
  right(await r.end('FINISHED', Date.now())())
  if (E.isLeft(sent)) {
    // 400 Invalid path, or a 404 or 500 from the routing in front of the check: not stored
    if (sent.left._tag !== 'HttpError') throw new Error(`unexpected answer: ${JSON.stringify(sent.left)}`)
    return { _tag: 'refused' }
  }
  // a path the server stores but cannot list back is not kept as it is
  return { _tag: 'stored', as: await storedNames(r.runId).catch((e: unknown) => [`(listing failed: ${String(e)})`]) }
}

/** Refused by us although the server stores them as they are: not portable to Windows. */
const portabilityOnly = (path: string): boolean => path.includes('\\') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)

/** The path as sent raw: no empty, "." or ".." segment, which a URL would resolve on the way. */
const sendable = (path: string): boolean => path.split('/').every((s) => s !== '' && s !== '.' && s !== '..')

const agree = async (t: Test, path: string): Promise<void> => {
  const answer = await serverAnswer(path)
  const ours = ArtifactPath.validateArtifactPath(path)
  if (answer._tag === 'refused') {
    t.ok(E.isLeft(ours), `${JSON.stringify(path)}: refused by the server, refused by us`)
  } else if (answer.as.length === 1 && answer.as[0] === path && !portabilityOnly(path)) {
    t.strictSame(ours, E.right(path), `${JSON.stringify(path)}: stored as it is by the server, accepted by us`)
  } else {
    t.ok(E.isLeft(ours), `${JSON.stringify(path)}: stored by the server as ${JSON.stringify(answer.as)}, refused by us`)
  }
}

const table = [
  'model.bin',
  'plots/roc.png',
  '.hidden',
  '...',
  'a..b/c',
  '100%.txt',
  '50%off',
  'a?b',
  'x;y',
  'a;/b',
  'ünï cödé.txt',
  'with space',
  'C:x.txt',
  'file:x/y',
  ' leading/space',
  ' leading space',
  'back\\slash',
  '%2e%2e/x.txt',
  '%2E%2E/x.txt',
  '%252e%252e/x.txt',
  'a%20b.txt',
  'a%2fb',
  '%ff.txt',
  'notes#1.txt',
  'a\nb.txt',
  'tab\t.txt',
  'x.txt?',
  'dir/x.txt;',
  'dir/x;?y'
]

t.test('a table of paths: what the server refuses or renames, we refuse; what it keeps, we accept', async (t) => {
  for (const path of table) await agree(t, path)
})

t.test('a property over names made of the characters that matter', async (t) => {
  const segment = fc
    .array(fc.constantFrom('a', '.', '%', '2', 'e', 'f', '#', '?', ';', ' ', '\\', 'ü', ':', '\u0007'), { minLength: 1, maxLength: 6 })
    .map((cs) => cs.join(''))
  const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((ss) => ss.join('/')).filter(sendable)
  await fc.assert(
    fc.asyncProperty(path, async (p) => {
      const answer = await serverAnswer(p)
      const ours = ArtifactPath.validateArtifactPath(p)
      if (answer._tag === 'refused') return E.isLeft(ours)
      const kept = answer.as.length === 1 && answer.as[0] === p && !portabilityOnly(p)
      return kept ? E.isRight(ours) && ours.right === p : E.isLeft(ours)
    }),
    { numRuns: 100 }
  )
  t.pass('every generated path agrees')
})

/** What logging `path` through a run handle of `sink` does: the name stored, or the error. */
const throughHandle = async (sink: Sink.Sink, path: string): Promise<Errors.TrackError | 'stored'> => {
  let refused: Errors.TrackError | undefined
  const r = await run(
    evaluate({ experiment: `handle paths ${randomUUID()}` }, async (h) => {
      try {
        await h.logArtifact({ path, text: 'x' })
      } catch (e) {
        refused = e instanceof Errors.TrackException ? e.error : undefined
      }
    }),
    { sink, logger }
  )
  right(r)
  return refused ?? 'stored'
}

t.test('memory, local and MLflow sinks accept and refuse the same paths, when they are logged', async (t) => {
  const local = openStore(tempDir(t))
  const memory = memorySink()
  for (const path of ['%2e%2e/x.txt', 'a%20b.txt', 'notes#1.txt', 'x.txt?', 'plots/roc.png', '100%.txt']) {
    const answers = [await throughHandle(memory, path), await throughHandle(local, path), await throughHandle(remote, path)]
    const expected = E.isLeft(ArtifactPath.validateArtifactPath(path)) ? { _tag: 'InvalidArtifactPath', path } : 'stored'
    t.match(answers, [expected, expected, expected], JSON.stringify(path))
  }
})
