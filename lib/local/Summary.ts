/**
 * A run's summary (`summary.json`): what listing and searching the run need (its name, status,
 * times, params, tags, each metric's latest point, the lines that could not be read) and the
 * journal length it was folded from. It is a cache kept by the readers: a summary that covers the
 * whole journal is current (a journal only grows); one that is missing, does not decode or is
 * behind is folded anew from the journal and written back, so listing a store reads each journal
 * once, not at every listing.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { stat } from 'node:fs/promises'
import type { TrackError } from '../Errors.js'
import { SummaryFile } from './Codecs.js'
import { keep, readJson } from './Files.js'
import { foldJournal, type RunFold } from './Journal.js'
import { journalPath, summaryPath } from './Layout.js'

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A record without a prototype: `__proto__` and `constructor` are keys like any other. */
const recordOf = <A>(m: ReadonlyMap<string, A>): Record<string, A> => Object.assign(Object.create(null) as Record<string, A>, Object.fromEntries(m))

/**
 * The summary of a folded journal; undefined when the journal has no start yet.
 * @category constructors
 * @since 0.3.0
 */
export const summaryOf = (fold: RunFold): SummaryFile | undefined =>
  fold.start === undefined
    ? undefined
    : {
        format: 'charmory-track-run-summary',
        version: 1,
        journalBytes: fold.journalBytes,
        start: fold.start,
        status: fold.status,
        endTime: fold.endTime ?? null,
        params: recordOf(fold.params),
        tags: recordOf(fold.tags),
        latest: recordOf(new Map([...fold.latest].map(([k, p]) => [k, [p.value, p.timestamp, p.step] as [number, number, number]]))),
        unreadable: fold.unreadable.map(({ line, error }): [number, string, string] => [line, error.path, error.message])
      }

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * The summary of the run `runId` (undefined while its folder holds no journal): its
 * `summary.json` when that covers the whole journal, or else the journal folded anew, and
 * written back for the next reader (a store that cannot be written is read the slow way).
 * @category destructors
 * @since 0.2.0
 */
export const readSummary = (dir: string, runId: string): TE.TaskEither<TrackError, SummaryFile | undefined> => async () => {
  const size = await stat(journalPath(dir, runId)).then(
    (s) => s.size,
    () => -1
  )
  const kept = await readJson(summaryPath(dir, runId), SummaryFile)()
  if (E.isRight(kept) && kept.right?.journalBytes === size) return kept
  const built = await pipe(foldJournal(dir, runId), TE.map(summaryOf))()
  if (E.isRight(built) && built.right !== undefined) await keep(summaryPath(dir, runId), `${JSON.stringify(SummaryFile.encode(built.right))}\n`)
  return built
}
