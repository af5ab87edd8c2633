/**
 * The local store's file formats, as io-ts codecs: the journal's records (and how a record and a
 * metric point are written, the hot path of metric logging), a run's `sync.jsonl` lines and
 * `summary.json`, an experiment's file and the store's format file. Where they live is
 * `Layout.ts`; what each record means is told in `Store.ts`.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts/lib/index.js'
import { DatasetRecordCodec, EntryCodec, MetricValue, RunStatusCodec } from '../Records.js'

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

const Entries = t.readonlyArray(EntryCodec)

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

/**
 * A journal's start record, decoded.
 * @category model
 * @since 0.3.0
 */
export type StartRecord = t.TypeOf<typeof StartRecord>

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
// encoding
// -------------------------------------------------------------------------------------

/**
 * One journal line, newline included.
 * @category destructors
 * @since 0.1.0
 */
export const encodeRecord = (record: JournalRecord): string => `${JSON.stringify(JournalRecord.encode(record))}\n`

/**
 * One metric point as it sits inside a `metrics` record, written without going through
 * `JSON.stringify` of a whole record (the hot path of metric logging). `keyJson` is the key
 * already encoded as a JSON string.
 * @category destructors
 * @since 0.1.0
 */
export const encodePoint = (keyJson: string, value: number, timestamp: number, step: number): string =>
  `[${keyJson},${Number.isFinite(value) ? String(value) : `"${value}"`},${timestamp},${step}]`

/**
 * A `metrics` record made of `encodePoint` pieces, newline included.
 * @category destructors
 * @since 0.1.0
 */
export const encodePoints = (points: ReadonlyArray<string>): string => `{"t":"metrics","m":[${points.join(',')}]}\n`
