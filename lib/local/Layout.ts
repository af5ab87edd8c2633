/**
 * Where things are in a local store: the store's default folder (`$ARMORY_HOME/mlruns`), each
 * run's folder, journal, sync progress, summary and artifacts, each experiment's file, and how
 * an experiment's id is derived from its name.
 *
 * @since 0.3.0
 */
import { createHash } from 'node:crypto'
import { join, resolve } from 'node:path'

// -------------------------------------------------------------------------------------
// paths
// -------------------------------------------------------------------------------------

/**
 * Where the store lives when nothing else is said: `$ARMORY_HOME/mlruns`, with `ARMORY_HOME`
 * defaulting to `<home>/.armory`. The caller passes the environment and home folder.
 * @category utils
 * @since 0.1.0
 */
export const defaultStoreDir = (vars: Readonly<Record<string, string | undefined>>, home: string): string =>
  join(armoryHome(vars, home), 'mlruns')

/**
 * `$ARMORY_HOME`, or `<home>/.armory`.
 * @category utils
 * @since 0.1.0
 */
export const armoryHome = (vars: Readonly<Record<string, string | undefined>>, home: string): string => {
  const given = vars['ARMORY_HOME']
  return given === undefined || given === '' ? join(home, '.armory') : resolve(given)
}

/**
 * Where a run's summary is kept.
 * @category utils
 * @since 0.2.0
 */
export const summaryPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'summary.json')

/**
 * The folder of the run `runId` in the store `dir`.
 * @category utils
 * @since 0.1.0
 */
export const runDir = (dir: string, runId: string): string => join(dir, 'runs', runId)

/**
 * The journal of the run `runId` in the store `dir` (`runs/<runId>/journal.jsonl`).
 * @category utils
 * @since 0.1.0
 */
export const journalPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'journal.jsonl')

/**
 * The sync progress of the run `runId` in the store `dir` (`runs/<runId>/sync.jsonl`).
 * @category utils
 * @since 0.1.0
 */
export const syncPath = (dir: string, runId: string): string => join(dir, 'runs', runId, 'sync.jsonl')

/**
 * Where the artifact `path` (a valid artifact path, `/`-separated) of the run `runId` is
 * kept in the store `dir`.
 * @category utils
 * @since 0.1.0
 */
export const artifactFile = (dir: string, runId: string, path: string): string =>
  join(dir, 'runs', runId, 'artifacts', ...path.split('/'))

/**
 * The file of the experiment `experimentId` in the store `dir`.
 * @category utils
 * @since 0.3.0
 */
export const experimentFile = (dir: string, experimentId: string): string => join(dir, 'experiments', `${experimentId}.json`)

/**
 * An experiment's id in the local store: derived from its name, so that every process that
 * creates the experiment arrives at the same id without coordinating.
 * @category utils
 * @since 0.1.0
 */
export const experimentIdOf = (name: string): string => createHash('sha256').update(name).digest('hex').slice(0, 20)
