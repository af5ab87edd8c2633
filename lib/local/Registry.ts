/**
 * What a local store registers besides its runs' journals: that the folder is a store (its
 * format file), its experiments (one file each, created atomically so that processes creating
 * the same experiment agree on its id), and how far each run was pushed to each target
 * (`sync.jsonl`, one line per confirmation).
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeError, describeUnknown, fileError, type TrackError } from '../Errors.js'
import { ExperimentFile, StoreFile, SyncStateRecord } from './Codecs.js'
import { byText, createExclusive, decodeLine, listDir, readJson, readLines } from './Files.js'
import { experimentFile, experimentIdOf, syncPath } from './Layout.js'

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

// -------------------------------------------------------------------------------------
// experiments
// -------------------------------------------------------------------------------------

/**
 * The experiment `experimentId`, if the store has it.
 * @category utils
 * @since 0.1.0
 */
export const readExperiment = (dir: string, experimentId: string): TE.TaskEither<TrackError, StoredExperiment | undefined> =>
  /^[0-9a-f]{20}$/.test(experimentId) ? readJson(experimentFile(dir, experimentId), ExperimentFile) : TE.right(undefined)

/**
 * Every experiment of the store, sorted by name. A folder that holds no store has none.
 * @category utils
 * @since 0.1.0
 */
export const listExperiments = (dir: string): TE.TaskEither<TrackError, ReadonlyArray<StoredExperiment>> =>
  pipe(
    listDir(join(dir, 'experiments')),
    TE.map((names) => names.filter((n) => /^[0-9a-f]{20}\.json$/.test(n))),
    TE.flatMap(TE.traverseSeqArray((n) => readExperiment(dir, n.slice(0, -5)))),
    TE.map((found) => found.filter((x): x is StoredExperiment => x !== undefined).sort((a, b) => byText(a.name, b.name)))
  )

const storeFileText = `${JSON.stringify(StoreFile.encode({ format: 'charmory-track-local-store', version: 1 }))}\n`

/**
 * Makes `dir` a store (its folders and format file), or checks that it is one this version
 * of the library can write.
 * @category utils
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
 * @category utils
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

// -------------------------------------------------------------------------------------
// sync states
// -------------------------------------------------------------------------------------

/**
 * The latest sync state per target of a run (none when it was never synced).
 * @category utils
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

/**
 * Records that `state.target` has confirmed the first `state.offset` bytes of the run's
 * journal (one line appended to `sync.jsonl`, flushed to disk).
 * @category utils
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
