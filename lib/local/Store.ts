/**
 * The local run store: where `localSink` keeps runs on this machine (by default
 * `$ARMORY_HOME/mlruns`, `ARMORY_HOME` defaulting to `~/.armory`), and the API that reads it
 * back (`listExperiments`, `listRuns`, `loadRun`, `readArtifact`), used by the
 * `charmory-track` command, by `syncStore` and by tests.
 *
 * The format is this library's own (MLflow's `mlruns` file store is deprecated), append-only,
 * and readable while it is being written:
 *
 * ```
 * <dir>/charmory-store.json            {"format":"charmory-track-local-store","version":1}
 * <dir>/experiments/<experimentId>.json {"experimentId":"…","name":"…"}
 * <dir>/runs/<runId>/journal.jsonl     the run, one JSON record a line, in the order logged
 * <dir>/runs/<runId>/sync.jsonl        what was pushed where: {"target","remoteRunId","offset"}
 * <dir>/runs/<runId>/summary.json      what listing the run needs (`SummaryFile`; since 0.2.0)
 * <dir>/runs/<runId>/artifacts/<path>  the run's artifacts, copied in
 * ```
 *
 * Journal records, each tagged by `t`:
 * - `{"t":"start","format":1,"runId","experimentId","runName","startTime","tags":[[k,v],…]}`,
 *   always the first line;
 * - `{"t":"params","params":[[k,v],…]}` and `{"t":"tags","tags":[[k,v],…]}`;
 * - `{"t":"metrics","m":[[key,value,timestamp,step],…]}` (a value that JSON cannot hold is
 *   the string `"NaN"`, `"Infinity"` or `"-Infinity"`);
 * - `{"t":"artifact","path","size"}`, appended once the file is in place;
 * - `{"t":"inputs","datasets":[{"name","digest","sourceType","source","schema"?,"profile"?,"tags":[[k,v],…]},…]}`
 *   (dataset inputs, since 0.2.0; journals without them read as before);
 * - `{"t":"end","status","endTime"}`.
 *
 * A run without an `end` record has not finished (status `RUNNING`); one with several ended as
 * the last says. Identical metric points (key, value, timestamp, step) are one point, as MLflow
 * stores them, so a journal that holds a run more than once (a sync before 0.3 into a journaling
 * sink could append a run to itself) reads back as one copy. A last line without its
 * newline was torn by a crash while being written: readers ignore it, and a writer that
 * reopens the run cuts it off first. Any other line that cannot be read (not JSON, not a record
 * of this format) is skipped and reported, and the rest is read: `listRuns` and `loadRun` give
 * each such line as a `DecodeError` naming the file and line (`RunSummary.unreadable`), and so
 * do `syncStore`'s report and the command; one bad line never hides a run or a store. Only a
 * journal whose first line (its `start` record) cannot be read leaves its run out of the
 * listings and searches, as a run folder without a journal is; `loadRun` names that line. An experiment's id is derived from its name and its file is
 * created with an atomic `link`, so processes creating the same experiment at once agree;
 * runs live in folders of their own, so processes writing runs at once never share a file.
 * `sync.jsonl` records how many bytes of the journal a target has confirmed: a run is synced
 * to a target when that offset reaches the end of its journal. `summary.json` is a cache kept
 * by the readers (`listRuns`, the local sink's searches): the run's name, status, times,
 * params, tags and each metric's latest point, and the journal length it covers. A summary
 * that covers the whole journal is current (a journal only grows); one that is missing, does
 * not decode or is behind is rebuilt from the journal and written back, so listing a store
 * reads each journal once, not at every listing.
 *
 * @example
 * import { LocalStore, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const dir = mkdtempSync(join(tmpdir(), 'store-'))
 * await run(evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })), { sink: localSink({ dir }) })
 * const runs = await LocalStore.listRuns(dir)()
 * assert.ok(E.isRight(runs))
 * assert.deepStrictEqual(
 *   runs.right.map((r) => [r.experimentName, r.status, r.metrics, r.synced]),
 *   [['demo', 'FINISHED', 1, false]]
 * )
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts/lib/index.js'
import { createHash } from 'node:crypto'
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { validateArtifactPath } from '../ArtifactPath.js'
import { decodeError, describeUnknown, fileError, notFound, type DecodeError, type TrackError } from '../Errors.js'
import { DatasetRecordCodec, type DatasetRecord } from '../Dataset.js'
import { metricHistory, type MetricHistory } from '../MetricHistory.js'
import { isLater } from '../Query.js'
import type { RunStatus } from '../Sink.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An experiment of the local store.
 * @category model
 * @since 0.1.0
 */
export interface StoredExperiment {
  readonly experimentId: string
  readonly name: string
}

/**
 * How far a run was pushed to one target (a sink's `name`, such as `mlflow:http://host:port`):
 * the run's id there and how many bytes of the journal it has confirmed.
 * @category model
 * @since 0.1.0
 */
export interface SyncState {
  readonly target: string
  readonly remoteRunId: string
  readonly offset: number
}

/**
 * One line of the run table.
 * @category model
 * @since 0.1.0
 */
export interface RunSummary {
  readonly runId: string
  readonly experimentId: string
  readonly experimentName: string
  readonly runName: string
  readonly status: RunStatus
  readonly startTime: number
  readonly endTime: number | undefined
  /** How many params, and how many distinct metric keys. */
  readonly params: number
  readonly metrics: number
  readonly parentRunId: string | undefined
  /** The length of the journal's complete lines, in bytes. */
  readonly journalBytes: number
  /** The latest state per target, in the order first synced. */
  readonly sync: ReadonlyArray<SyncState>
  /** Every byte of the journal confirmed by some target. */
  readonly synced: boolean
  /**
   * The journal's lines that could not be read (not JSON, not a record of this format), each a
   * `DecodeError` naming the file and line: they are skipped, and the rest of the run is read.
   * Since 0.3.0.
   */
  readonly unreadable: ReadonlyArray<DecodeError>
}

/**
 * One point of a metric's history.
 * @category model
 * @since 0.1.0
 */
export interface StoredPoint {
  readonly value: number
  readonly step: number
  readonly timestamp: number
}

/**
 * A run read back whole.
 * @category model
 * @since 0.1.0
 */
export interface StoredRun extends RunSummary {
  readonly paramValues: Readonly<Record<string, string>>
  readonly metricHistories: Readonly<Record<string, ReadonlyArray<StoredPoint>>>
  readonly tags: Readonly<Record<string, string>>
  /** Artifact paths with their sizes in bytes, sorted by path. */
  readonly artifacts: ReadonlyArray<{ readonly path: string; readonly size: number }>
  /** Dataset inputs, in the order logged, one per name and digest (since 0.2.0). */
  readonly inputs: ReadonlyArray<DatasetRecord>
}

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

const isSafeInteger = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u)

/**
 * An integer JSON number (milliseconds, steps, byte offsets).
 * @category codecs
 * @since 0.1.0
 */
export const SafeInteger = new t.Type<number, number, unknown>(
  'SafeInteger',
  isSafeInteger,
  (u, c) => (isSafeInteger(u) ? t.success(u) : t.failure(u, c)),
  (n) => n
)

const nonFinite: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }

/**
 * A metric value: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"` for the values JSON
 * has no number for.
 * @category codecs
 * @since 0.1.0
 */
export const MetricValue = new t.Type<number, number | string, unknown>(
  'MetricValue',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u)
    const n = typeof u === 'string' ? nonFinite[u] : undefined
    return n === undefined ? t.failure(u, c) : t.success(n)
  },
  (n) => (Number.isFinite(n) ? n : String(n))
)

/**
 * A run id that is safe as a folder name.
 * @category codecs
 * @since 0.1.0
 */
export const RunId = new t.Type<string, string, unknown>(
  'RunId',
  (u): u is string => typeof u === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(u) ? t.success(u) : t.failure(u, c)),
  (s) => s
)

/**
 * A record of string keys to `codomain`, own properties only, in and out: a key named
 * `__proto__` or `constructor` is a key like any other (io-ts's `record` builds its result with
 * `a[k] = v`, which gives a `__proto__` key to the prototype instead).
 * @category codecs
 * @since 0.3.0
 */
export const ownRecord = <C extends t.Mixed>(codomain: C): t.Type<Record<string, t.TypeOf<C>>, Record<string, t.OutputOf<C>>, unknown> =>
  new t.Type(
    `{ [K in string]: ${codomain.name} }`,
    (u): u is Record<string, t.TypeOf<C>> => t.UnknownRecord.is(u) && Object.values(u).every((v) => codomain.is(v)),
    (u, c) => {
      if (!t.UnknownRecord.is(u)) return t.failure(u, c)
      const out: Array<readonly [string, t.TypeOf<C>]> = []
      for (const [k, v] of Object.entries(u)) {
        const decoded = codomain.validate(v, t.appendContext(c, k, codomain, v))
        if (E.isLeft(decoded)) return decoded
        out.push([k, decoded.right])
      }
      return t.success(Object.fromEntries(out))
    },
    (a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, codomain.encode(v)]))
  )

const RunStatusCodec = t.keyof({ RUNNING: null, SCHEDULED: null, FINISHED: null, FAILED: null, KILLED: null })
const Entries = t.readonlyArray(t.readonly(t.tuple([t.string, t.string])))

/**
 * The first line of every journal: the run's id, experiment, name, start time and first
 * tags.
 * @category codecs
 * @since 0.1.0
 */
export const StartRecord = t.type({
  t: t.literal('start'),
  format: t.literal(1),
  runId: RunId,
  experimentId: t.string,
  runName: t.string,
  startTime: SafeInteger,
  tags: Entries
})

const members = {
  start: StartRecord,
  params: t.type({ t: t.literal('params'), params: Entries }),
  tags: t.type({ t: t.literal('tags'), tags: Entries }),
  metrics: t.type({
    t: t.literal('metrics'),
    m: t.readonlyArray(t.tuple([t.string, MetricValue, SafeInteger, SafeInteger]))
  }),
  artifact: t.type({ t: t.literal('artifact'), path: t.string, size: SafeInteger }),
  inputs: t.type({ t: t.literal('inputs'), datasets: t.readonlyArray(DatasetRecordCodec) }),
  end: t.type({ t: t.literal('end'), status: RunStatusCodec, endTime: SafeInteger })
}
const RecordTag = t.keyof(members, 'a record tag (start, params, tags, metrics, artifact, inputs, end)')
const AnyRecord = t.union([
  members.start,
  members.params,
  members.tags,
  members.metrics,
  members.artifact,
  members.inputs,
  members.end
])

/**
 * A journal record, dispatched on its tag `t` so that a decoding failure names the field
 * inside the record (`m.3.1`) rather than a member of a union.
 * @category codecs
 * @since 0.1.0
 */
export const JournalRecord = new t.Type<t.TypeOf<typeof AnyRecord>, t.OutputOf<typeof AnyRecord>, unknown>(
  'JournalRecord',
  AnyRecord.is,
  (u, c) => {
    const tag = typeof u === 'object' && u !== null && 't' in u ? u.t : undefined
    return RecordTag.is(tag) ? members[tag].validate(u, c) : t.failure(tag, t.appendContext(c, 't', RecordTag, tag))
  },
  AnyRecord.encode
)

/**
 * One line of a run's journal.
 * @category model
 * @since 0.1.0
 */
export type JournalRecord = t.TypeOf<typeof JournalRecord>

/**
 * One line of a run's `sync.jsonl`: how far the run was pushed to one target (`SyncState`).
 * @category codecs
 * @since 0.1.0
 */
export const SyncStateRecord = t.type({ target: t.string, remoteRunId: t.string, offset: SafeInteger })

/**
 * The file `experiments/<experimentId>.json`: an experiment's id and name.
 * @category codecs
 * @since 0.1.0
 */
export const ExperimentFile = t.type({ experimentId: t.string, name: t.string })

/**
 * The file `charmory-store.json` that marks a folder as a local store, with its format
 * version.
 * @category codecs
 * @since 0.1.0
 */
export const StoreFile = t.type({ format: t.literal('charmory-track-local-store'), version: t.literal(1) })

/**
 * A run's `summary.json`: what listing and searching the run need, and the length of the
 * journal it was folded from (`journalBytes`); each metric's latest point is
 * `[value, timestamp, step]` (the latest as MLflow picks it: greatest step, then timestamp,
 * then value); `unreadable` lists the journal's lines that could not be read (since 0.3.0).
 * @category codecs
 * @since 0.2.0
 */
export const SummaryFile = t.intersection([
  t.type({
    format: t.literal('charmory-track-run-summary'),
    version: t.literal(1),
    journalBytes: SafeInteger,
    start: StartRecord,
    status: RunStatusCodec,
    endTime: t.union([SafeInteger, t.null]),
    params: ownRecord(t.string),
    tags: ownRecord(t.string),
    latest: ownRecord(t.tuple([MetricValue, SafeInteger, SafeInteger]))
  }),
  // since 0.3.0: the lines of the journal that could not be read, as [line, field, message]
  t.partial({ unreadable: t.readonlyArray(t.tuple([SafeInteger, t.string, t.string])) })
])

/**
 * A run's summary, decoded.
 * @category model
 * @since 0.2.0
 */
export type SummaryFile = t.TypeOf<typeof SummaryFile>

// -------------------------------------------------------------------------------------
// paths
// -------------------------------------------------------------------------------------

/**
 * Where the store lives when nothing else is said: `$ARMORY_HOME/mlruns`, with `ARMORY_HOME`
 * defaulting to `<home>/.armory`. The caller passes the environment and home folder.
 * @category paths
 * @since 0.1.0
 */
export const defaultStoreDir = (vars: Readonly<Record<string, string | undefined>>, home: string): string =>
  join(armoryHome(vars, home), 'mlruns')

/**
 * `$ARMORY_HOME`, or `<home>/.armory`.
 * @category paths
 * @since 0.1.0
 */
export const armoryHome = (vars: Readonly<Record<string, string | undefined>>, home: string): string => {
  const given = vars['ARMORY_HOME']
  return given === undefined || given === '' ? join(home, '.armory') : resolve(given)
}

/**
 * Where a run's summary is kept.
 * @category paths
 * @since 0.2.0
 */
export const summaryPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'summary.json')

/**
 * The folder of the run `runId` in the store `dir`.
 * @category paths
 * @since 0.1.0
 */
export const runDir = (dir: string, runId: string): string => join(dir, 'runs', runId)

/**
 * The journal of the run `runId` in the store `dir` (`runs/<runId>/journal.jsonl`).
 * @category paths
 * @since 0.1.0
 */
export const journalPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'journal.jsonl')

/**
 * The sync progress of the run `runId` in the store `dir` (`runs/<runId>/sync.jsonl`).
 * @category paths
 * @since 0.1.0
 */
export const syncPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'sync.jsonl')

/**
 * Where the artifact `path` (a valid artifact path, `/`-separated) of the run `runId` is
 * kept in the store `dir`.
 * @category paths
 * @since 0.1.0
 */
export const artifactFile = (dir: string, runId: string, path: string): string =>
  join(dir, 'runs', runId, 'artifacts', ...path.split('/'))

const experimentFile = (dir: string, experimentId: string): string => join(dir, 'experiments', `${experimentId}.json`)

/**
 * An experiment's id in the local store: derived from its name, so that every process that
 * creates the experiment arrives at the same id without coordinating.
 * @category paths
 * @since 0.1.0
 */
export const experimentIdOf = (name: string): string => createHash('sha256').update(name).digest('hex').slice(0, 20)

// -------------------------------------------------------------------------------------
// encoding
// -------------------------------------------------------------------------------------

/**
 * One journal line, newline included.
 * @category encoding
 * @since 0.1.0
 */
export const encodeRecord = (record: JournalRecord): string => `${JSON.stringify(JournalRecord.encode(record))}\n`

/**
 * One metric point as it sits inside a `metrics` record, written without going through
 * `JSON.stringify` of a whole record (the hot path of metric logging). `keyJson` is the key
 * already encoded as a JSON string.
 * @category encoding
 * @since 0.1.0
 */
export const encodePoint = (keyJson: string, value: number, timestamp: number, step: number): string =>
  `[${keyJson},${Number.isFinite(value) ? String(value) : `"${value}"`},${timestamp},${step}]`

/**
 * A `metrics` record made of `encodePoint` pieces, newline included.
 * @category encoding
 * @since 0.1.0
 */
export const encodePoints = (points: ReadonlyArray<string>): string => `{"t":"metrics","m":[${points.join(',')}]}\n`

// -------------------------------------------------------------------------------------
// reading
// -------------------------------------------------------------------------------------


let temporaries = 0

/** A name beside `path` that no other write uses: this process's id and a counter of its own. */
const temporary = (path: string): string => `${path}.${process.pid}-${++temporaries}.tmp`

/** Orders text by code points, as `sort()` does, for use inside a comparison. */
const byText = (a: string, b: string): number => Number(a > b) - Number(a < b)

const isMissing = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === 'ENOENT'

/** The first decoding failure as `field path` and what was expected there. */
const firstProblem = (errors: t.Errors): { path: string; message: string } => {
  const first = errors[0]
  if (first === undefined) return { path: '(record)', message: 'unexpected shape' }
  const path = first.context
    .map((c) => c.key)
    .filter((k) => k !== '')
    .join('.')
  const expected = first.context.map((c) => c.type.name)
  return { path: path === '' ? '(record)' : path, message: `expected ${expected[expected.length - 1]}` }
}

/**
 * Parses and decodes one line of a store file, or a `DecodeError` naming `file:line` and the
 * field at fault.
 * @category reading
 * @since 0.1.0
 */
export const decodeLine = <A>(codec: t.Decoder<unknown, A>, text: string, file: string, line: number): E.Either<TrackError, A> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(decodeError(`${file}:${line}`, '(line)', `not JSON: ${describeUnknown(e)}`))
  }
  return pipe(
    codec.decode(json),
    E.mapLeft((errors) => {
      const problem = firstProblem(errors)
      return decodeError(`${file}:${line}`, problem.path, problem.message)
    })
  )
}

/**
 * Calls `onLine` with each complete line of `file` (its text, its 1-based number and the
 * byte offset just after it), reading a chunk at a time so that memory stays bounded. A last
 * line without a newline is torn and skipped. Yields the length of the complete lines; a
 * missing file has none. `onLine` stops the walk by returning a `Left`.
 * @category reading
 * @since 0.1.0
 */
export const readLines = (
  file: string,
  onLine: (text: string, line: number, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>
): TE.TaskEither<TrackError, number> =>
  async () => {
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (e) {
      return isMissing(e) ? E.right(0) : E.left(fileError(file, describeUnknown(e)))
    }
    return walkLines(handle, onLine).then(
      (r) => handle.close().then(() => r),
      (e: unknown) => handle.close().then(() => E.left(fileError(file, describeUnknown(e))))
    )
  }

const walkLines = async (
  handle: FileHandle,
  onLine: (text: string, line: number, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>
): Promise<E.Either<TrackError, number>> => {
  const chunk = Buffer.allocUnsafe(1 << 20)
  let carry: Buffer = Buffer.alloc(0)
  let consumed = 0
  let line = 0
  for (let n = await readChunk(handle, chunk); n > 0; n = await readChunk(handle, chunk)) {
    const data = carry.length === 0 ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)])
    let start = 0
    for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
      line += 1
      consumed += nl + 1 - start
      const r = onLine(data.toString('utf8', start, nl), line, consumed)
      const result = r instanceof Promise ? await r : r
      if (E.isLeft(result)) return result
      start = nl + 1
    }
    carry = Buffer.from(data.subarray(start))
  }
  return E.right(consumed)
}

const readChunk = async (handle: FileHandle, chunk: Buffer): Promise<number> =>
  (await handle.read(chunk, 0, chunk.length, null)).bytesRead

/**
 * Calls `onRecord` with each decoded record of a run's journal and the byte offset just
 * after it. Yields the length of the journal's complete lines. A line that cannot be read (not
 * JSON, not a record of this format, a `start` record anywhere but on the first line, another
 * record there) is skipped and given to `onUnreadable` as a `DecodeError` naming the file and
 * line: one bad line never hides the rest of the run (since 0.3.0; it stopped the reading).
 * @category reading
 * @since 0.1.0
 */
export const readJournal = (
  dir: string,
  runId: string,
  onRecord: (record: JournalRecord, end: number) => E.Either<TrackError, void> | Promise<E.Either<TrackError, void>>,
  onUnreadable: (e: DecodeError, line: number) => void = () => undefined
): TE.TaskEither<TrackError, number> => {
  const file = journalPath(dir, runId)
  return readLines(file, (text, line, end) => {
    const record = E.flatMap((r: JournalRecord) =>
      (line === 1) === (r.t === 'start') ? E.right(r) : E.left(decodeError(`${file}:${line}`, 't', 'a journal starts with its one "start" record'))
    )(decodeLine(JournalRecord, text, file, line))
    if (E.isRight(record)) return onRecord(record.right, end)
    onUnreadable(record.left as DecodeError, line)
    return E.right(undefined)
  })
}

/**
 * The latest sync state per target of a run (none when it was never synced).
 * @category reading
 * @since 0.1.0
 */
export const readSyncStates = (dir: string, runId: string): TE.TaskEither<TrackError, ReadonlyArray<SyncState>> => {
  const file = syncPath(dir, runId)
  const states = new Map<string, SyncState>()
  return pipe(
    readLines(file, (text, line) =>
      E.map((s: SyncState) => void states.set(s.target, s))(decodeLine(SyncStateRecord, text, file, line))
    ),
    TE.map(() => [...states.values()])
  )
}

const readJson = <A>(file: string, codec: t.Decoder<unknown, A>): TE.TaskEither<TrackError, A | undefined> =>
  async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      return isMissing(e) ? E.right(undefined) : E.left(fileError(file, describeUnknown(e)))
    }
    return decodeLine(codec, text, file, 1)
  }

/**
 * The experiment `experimentId`, if the store has it.
 * @category reading
 * @since 0.1.0
 */
export const readExperiment = (dir: string, experimentId: string): TE.TaskEither<TrackError, StoredExperiment | undefined> =>
  /^[0-9a-f]{20}$/.test(experimentId) ? readJson(experimentFile(dir, experimentId), ExperimentFile) : TE.right(undefined)

const listDir = (path: string): TE.TaskEither<TrackError, ReadonlyArray<string>> =>
  TE.tryCatch(
    () => readdir(path).then((names) => names.sort(), (e: unknown) => (isMissing(e) ? [] : Promise.reject(e))),
    (e) => fileError(path, describeUnknown(e))
  )

// -------------------------------------------------------------------------------------
// reader API
// -------------------------------------------------------------------------------------

/**
 * Every experiment of the store, sorted by name. A folder that holds no store has none.
 * @category reader
 * @since 0.1.0
 */
export const listExperiments = (dir: string): TE.TaskEither<TrackError, ReadonlyArray<StoredExperiment>> =>
  pipe(
    listDir(join(dir, 'experiments')),
    TE.map((names) => names.filter((n) => /^[0-9a-f]{20}\.json$/.test(n))),
    TE.flatMap(TE.traverseSeqArray((n) => readExperiment(dir, n.slice(0, -5)))),
    TE.map((found) => found.filter((x): x is StoredExperiment => x !== undefined).sort((a, b) => byText(a.name, b.name)))
  )

interface Fold {
  start: t.TypeOf<typeof StartRecord> | undefined
  readonly params: Map<string, string>
  readonly tags: Map<string, string>
  /** Identical points once, as the server keeps them (a journal may hold a run's points twice). */
  readonly metrics: Map<string, MetricHistory<StoredPoint>>
  readonly artifacts: Map<string, number>
  readonly inputs: Array<DatasetRecord>
  status: RunStatus
  endTime: number | undefined
}

const step = (fold: Fold, record: JournalRecord): void => {
  switch (record.t) {
    case 'start':
      fold.start = record
      for (const [k, v] of record.tags) fold.tags.set(k, v)
      return
    case 'params':
      for (const [k, v] of record.params) fold.params.set(k, v)
      return
    case 'tags':
      for (const [k, v] of record.tags) fold.tags.set(k, v)
      return
    case 'metrics':
      for (const [key, value, timestamp, s] of record.m) {
        let history = fold.metrics.get(key)
        if (history === undefined) fold.metrics.set(key, (history = metricHistory()))
        history.add({ value, timestamp, step: s })
      }
      return
    case 'artifact':
      fold.artifacts.set(record.path, record.size)
      return
    case 'inputs':
      for (const d of record.datasets) {
        if (!fold.inputs.some((known) => known.name === d.name && known.digest === d.digest)) fold.inputs.push(d)
      }
      return
    case 'end':
      fold.status = record.status
      fold.endTime = record.endTime
  }
}

/** Reads a run whole; undefined when absent. */
const foldRun = (dir: string, runId: string): TE.TaskEither<TrackError, StoredRun | undefined> => {
  const fold: Fold = {
    start: undefined,
    params: new Map(),
    tags: new Map(),
    metrics: new Map(),
    artifacts: new Map(),
    inputs: [],
    status: 'RUNNING',
    endTime: undefined
  }
  const unreadable: Array<DecodeError> = []
  return pipe(
    readJournal(dir, runId, (record) => E.right(step(fold, record)), (e) => void unreadable.push(e)),
    // a journal whose first line cannot be read has no start: nothing of the run can be told
    TE.tap(() => (fold.start === undefined && unreadable.length > 0 ? TE.left(unreadable[0]!) : TE.right(undefined))),
    TE.bindTo('journalBytes'),
    TE.bind('sync', () => readSyncStates(dir, runId)),
    TE.bind('experiment', () =>
      fold.start === undefined ? TE.right(undefined) : readExperiment(dir, fold.start.experimentId)
    ),
    TE.map(({ journalBytes, sync, experiment }) => {
      const start = fold.start
      if (start === undefined) return undefined
      return {
        runId: start.runId,
        experimentId: start.experimentId,
        experimentName: experiment?.name ?? start.experimentId,
        runName: start.runName,
        status: fold.status,
        startTime: start.startTime,
        endTime: fold.endTime,
        params: fold.params.size,
        metrics: fold.metrics.size,
        parentRunId: fold.tags.get('mlflow.parentRunId'),
        journalBytes,
        sync,
        synced: sync.some((s) => s.offset >= journalBytes),
        unreadable,
        paramValues: Object.fromEntries(fold.params),
        metricHistories: Object.fromEntries([...fold.metrics].map(([key, history]) => [key, history.points])),
        tags: Object.fromEntries(fold.tags),
        artifacts: [...fold.artifacts].sort(([a], [b]) => byText(a, b)).map(([path, size]) => ({ path, size })),
        inputs: fold.inputs
      }
    })
  )
}

// -------------------------------------------------------------------------------------
// summaries
// -------------------------------------------------------------------------------------

/** A run's journal folded into its summary; undefined when the folder holds no journal yet. */
const summarize = (dir: string, runId: string): TE.TaskEither<TrackError, SummaryFile | undefined> => {
  let start: t.TypeOf<typeof StartRecord> | undefined
  let status: RunStatus = 'RUNNING'
  let endTime: number | null = null
  // without a prototype, `__proto__` and `constructor` are keys like any other
  const params: Record<string, string> = Object.create(null)
  const tags: Record<string, string> = Object.create(null)
  const latest: Record<string, StoredPoint> = Object.create(null)
  const unreadable: Array<[number, string, string]> = []
  const onRecord = (record: JournalRecord): E.Either<TrackError, void> => {
    if (record.t === 'start') start = record
    if (record.t === 'start' || record.t === 'tags') for (const [k, v] of record.tags) tags[k] = v
    if (record.t === 'params') for (const [k, v] of record.params) params[k] = v
    if (record.t === 'metrics') {
      for (const [key, value, timestamp, s] of record.m) {
        const point = { value, timestamp, step: s }
        const kept = latest[key]
        if (kept === undefined || isLater(kept, point)) latest[key] = point
      }
    }
    if (record.t === 'end') {
      status = record.status
      endTime = record.endTime
    }
    return E.right(undefined)
  }
  return pipe(
    readJournal(dir, runId, onRecord, (e, line) => void unreadable.push([line, e.path, e.message])),
    TE.map((journalBytes) =>
      start === undefined
        ? undefined
        : {
            format: 'charmory-track-run-summary' as const,
            version: 1 as const,
            journalBytes,
            start,
            status,
            endTime,
            params,
            tags,
            latest: Object.fromEntries(Object.entries(latest).map(([k, p]) => [k, [p.value, p.timestamp, p.step] as [number, number, number]])),
            unreadable
          }
    )
  )
}

/**
 * The summary of the run `runId` (undefined while its folder holds no journal): its
 * `summary.json` when that covers the whole journal, or else the journal folded anew, and
 * written back for the next reader (a store that cannot be written is read the slow way).
 * @category reader
 * @since 0.2.0
 */
export const readSummary = (dir: string, runId: string): TE.TaskEither<TrackError, SummaryFile | undefined> => async () => {
  const size = await stat(journalPath(dir, runId)).then(
    (s) => s.size,
    () => -1
  )
  const kept = await readJson(summaryPath(dir, runId), SummaryFile)()
  if (E.isRight(kept) && kept.right?.journalBytes === size) return kept
  const built = await summarize(dir, runId)()
  if (E.isRight(built) && built.right !== undefined) await keep(summaryPath(dir, runId), `${JSON.stringify(SummaryFile.encode(built.right))}\n`)
  return built
}

/** Writes a cache file in place, or leaves it: without fsync, since a torn one does not decode and is rebuilt. */
const keep = async (file: string, text: string): Promise<void> => {
  const tmp = temporary(file)
  try {
    await writeFile(tmp, text)
    await rename(tmp, file)
  } catch {
    await rm(tmp, { force: true })
  }
}

/**
 * Runs `f` over `xs` with at most `width` at once, keeping their order; the first failure
 * stops it. How the readers go through a store's runs: many small files at once, never a
 * thousand open together.
 * @category utils
 * @since 0.2.0
 */
export const traverseWide =
  <A, B>(width: number, f: (a: A) => TE.TaskEither<TrackError, B>) =>
  (xs: ReadonlyArray<A>): TE.TaskEither<TrackError, ReadonlyArray<B>> =>
  async () => {
    const out: Array<B> = []
    for (let i = 0; i < xs.length; i += width) {
      const some = await TE.traverseArray(f)(xs.slice(i, i + width))()
      if (E.isLeft(some)) return some
      out.push(...some.right)
    }
    return E.right(out)
  }

/** A run's line of the table, from its summary, its sync states and its experiment's name. */
const summaryLine = (
  dir: string,
  runId: string,
  names: Map<string, Promise<E.Either<TrackError, StoredExperiment | undefined>>>
): TE.TaskEither<TrackError, RunSummary | undefined> =>
  pipe(
    readSummary(dir, runId),
    TE.flatMap((summary) => {
      if (summary === undefined) return TE.right(undefined)
      const { start } = summary
      const name = (): Promise<E.Either<TrackError, StoredExperiment | undefined>> => {
        const known = names.get(start.experimentId) ?? readExperiment(dir, start.experimentId)()
        names.set(start.experimentId, known)
        return known
      }
      return pipe(
        readSyncStates(dir, runId),
        TE.bindTo('sync'),
        TE.bind('experiment', () => name),
        TE.map(({ sync, experiment }) => ({
          runId: start.runId,
          experimentId: start.experimentId,
          experimentName: experiment?.name ?? start.experimentId,
          runName: start.runName,
          status: summary.status,
          startTime: start.startTime,
          endTime: summary.endTime ?? undefined,
          params: Object.keys(summary.params).length,
          metrics: Object.keys(summary.latest).length,
          parentRunId: summary.tags['mlflow.parentRunId'],
          journalBytes: summary.journalBytes,
          sync,
          synced: sync.some((s) => s.offset >= summary.journalBytes),
          unreadable: (summary.unreadable ?? []).map(([line, path, message]) =>
            decodeError(`${journalPath(dir, runId)}:${line}`, path, message) as DecodeError
          )
        }))
      )
    })
  )

/**
 * Every run of the store (or of the experiment named `experiment`), newest first, from the
 * runs' summaries (see the module's description). A run folder whose creation was cut short
 * (no journal yet) is left out.
 * @category reader
 * @since 0.1.0
 */
export const listRuns = (
  dir: string,
  filter: { readonly experiment?: string } = {}
): TE.TaskEither<TrackError, ReadonlyArray<RunSummary>> =>
  pipe(
    listDir(join(dir, 'runs')),
    TE.flatMap((ids) => {
      const names = new Map<string, Promise<E.Either<TrackError, StoredExperiment | undefined>>>()
      return traverseWide(32, (id: string) => summaryLine(dir, id, names))(ids)
    }),
    TE.map((runs) =>
      runs
        .flatMap((r) => (r === undefined || (filter.experiment !== undefined && r.experimentName !== filter.experiment) ? [] : [r]))
        .sort((a, b) => b.startTime - a.startTime || byText(a.runId, b.runId))
    )
  )

/**
 * The run `runId` whole: params, full metric histories, tags, artifacts, status, times, its
 * parent and how far it was synced. `NotFound` when the store has no such run.
 * @category reader
 * @since 0.1.0
 */
export const loadRun = (dir: string, runId: string): TE.TaskEither<TrackError, StoredRun> =>
  E.isLeft(RunId.decode(runId))
    ? TE.left(notFound('run', runId))
    : pipe(
        foldRun(dir, runId),
        TE.flatMap((r) => (r === undefined ? TE.left(notFound('run', runId)) : TE.right(r)))
      )

/**
 * The bytes of one artifact of a run.
 * @category reader
 * @since 0.1.0
 */
export const readArtifact = (dir: string, runId: string, path: string): TE.TaskEither<TrackError, Uint8Array> =>
  pipe(
    TE.fromEither(validateArtifactPath(path)),
    TE.flatMap((p) =>
      E.isLeft(RunId.decode(runId))
        ? TE.left(notFound('run', runId))
        : TE.tryCatch(
            async () => new Uint8Array(await readFile(artifactFile(dir, runId, p))),
            (e) => (isMissing(e) ? notFound('artifact', `${runId}/${p}`) : fileError(artifactFile(dir, runId, p), describeUnknown(e)))
          )
    )
  )

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

/**
 * How a file is hard-linked (`link` of `node:fs/promises`), spelled out so that the published
 * types name no Node module: a project without `@types/node` reads them.
 * @category writing
 * @since 0.2.0
 */
export type LinkFile = (existingPath: string, newPath: string) => Promise<void>

/**
 * Hard-links `from` to `to` unless `to` exists; yields whether it linked. `linkFile` is the
 * file system's (a parameter so that tests can make it fail).
 * @category writing
 * @since 0.1.0
 */
export const linkUnlessExists = (from: string, to: string, linkFile: LinkFile = link): Promise<boolean> =>
  linkFile(from, to).then(
    () => true,
    (e: unknown) => ((e as { code?: unknown }).code === 'EEXIST' ? false : Promise.reject(e))
  )

/**
 * Writes `text` to `path` only if nothing is there yet, atomically: the text goes to a
 * temporary file first and is hard-linked into place, so a reader never sees half a file
 * and of two processes racing, exactly one wins. Yields whether this call created it.
 * @category writing
 * @since 0.1.0
 */
export const createExclusive = (path: string, text: string, linkFile: LinkFile = link): TE.TaskEither<TrackError, boolean> =>
  TE.tryCatch(
    async () => {
      const tmp = temporary(path)
      await writeFile(tmp, text, { flush: true })
      return linkUnlessExists(tmp, path, linkFile).finally(() => unlink(tmp))
    },
    (e) => fileError(path, describeUnknown(e))
  )

/**
 * Writes `text` to `path` through a temporary file renamed into place (replacing it).
 * @category writing
 * @since 0.1.0
 */
export const replaceFile = (path: string, data: string | Uint8Array): TE.TaskEither<TrackError, void> =>
  TE.tryCatch(
    async () => {
      const tmp = temporary(path)
      await writeFile(tmp, data, { flush: true })
      await rename(tmp, path)
    },
    (e) => fileError(path, describeUnknown(e))
  )

const storeFileText = `${JSON.stringify(StoreFile.encode({ format: 'charmory-track-local-store', version: 1 }))}\n`

/**
 * Makes `dir` a store (its folders and format file), or checks that it is one this version
 * of the library can write.
 * @category writing
 * @since 0.1.0
 */
export const ensureStore = (dir: string): TE.TaskEither<TrackError, void> =>
  pipe(
    TE.tryCatch(
      async () => {
        await mkdir(join(dir, 'experiments'), { recursive: true })
        await mkdir(join(dir, 'runs'), { recursive: true })
      },
      (e) => fileError(dir, describeUnknown(e))
    ),
    TE.flatMap(() => createExclusive(join(dir, 'charmory-store.json'), storeFileText)),
    TE.flatMap(() => readJson(join(dir, 'charmory-store.json'), StoreFile)),
    TE.asUnit
  )

/**
 * The id of the experiment `name`, registering it when the store does not have it yet.
 * Safe when several processes register the same name at once.
 * @category writing
 * @since 0.1.0
 */
export const registerExperiment = (dir: string, name: string): TE.TaskEither<TrackError, string> => {
  const experimentId = experimentIdOf(name)
  const file = experimentFile(dir, experimentId)
  return pipe(
    createExclusive(file, `${JSON.stringify(ExperimentFile.encode({ experimentId, name }))}\n`),
    TE.flatMap(() => readExperiment(dir, experimentId)),
    TE.flatMap((found) =>
      found?.name === name
        ? TE.right(experimentId)
        : TE.left(decodeError(file, 'name', `expected the experiment ${JSON.stringify(name)}`))
    )
  )
}

/**
 * Records that `state.target` has confirmed the first `state.offset` bytes of the run's
 * journal (one line appended to `sync.jsonl`, flushed to disk).
 * @category writing
 * @since 0.1.0
 */
export const recordSyncState = (dir: string, runId: string, state: SyncState): TE.TaskEither<TrackError, void> =>
  TE.tryCatch(
    async () => {
      const line = `${JSON.stringify(SyncStateRecord.encode(state))}\n`
      await writeFile(syncPath(dir, runId), line, { flag: 'a', flush: true })
    },
    (e) => fileError(syncPath(dir, runId), describeUnknown(e))
  )
