/**
 * What the queries of the sinks that hold their runs themselves (memory, local) share with the
 * readers of those runs, not part of the public API: how MLflow picks a metric's latest point,
 * and what a filter or an ordering reads from a run or an experiment.
 *
 * @since 0.3.0
 */
import type { Lookup } from '../SearchFilter.js'
import type { FoundExperiment, FoundRun, HeldRun } from '../RunQuery.js'

/**
 * One point of a held run's metric.
 * @category model
 * @since 0.3.0
 */
export type Point = HeldRun['metrics'][string][number]

/**
 * NaN is stored as 0 by MLflow, which is what it compares when it picks the latest point.
 * @category utils
 * @since 0.3.0
 */
export const num = (v: number): number => (Number.isNaN(v) ? 0 : v)

/**
 * Whether point `b` is later than point `a`, as MLflow picks a metric's latest value: by
 * step, then timestamp, then value (NaN counting as 0).
 * @category utils
 * @since 0.3.0
 */
export const isLater = (a: Point, b: Point): boolean =>
  b.step > a.step || (b.step === a.step && (b.timestamp > a.timestamp || (b.timestamp === a.timestamp && num(b.value) > num(a.value))))

const latest = (points: ReadonlyArray<Point>): number => points.reduce((a, b) => (isLater(a, b) ? b : a)).value

/**
 * A held run as a search finds it.
 * @category utils
 * @since 0.3.0
 */
export const foundRun = (run: HeldRun): FoundRun => ({
  runId: run.runId,
  experimentId: run.experimentId,
  runName: run.runName,
  status: run.status,
  startTime: run.startTime,
  endTime: run.endTime,
  userId: run.tags['mlflow.user'] ?? '',
  params: { ...run.params },
  metrics: Object.fromEntries(Object.entries(run.metrics).flatMap(([k, points]) => (points.length === 0 ? [] : [[k, latest(points)]]))),
  tags: { ...run.tags }
})

/**
 * `record[key]` if it is the record's own: `constructor` is a key like any other.
 * @category utils
 * @since 0.3.0
 */
export const own = <A>(record: Readonly<Record<string, A>>, key: string): A | undefined => (Object.hasOwn(record, key) ? record[key] : undefined)

/**
 * What a filter or an ordering reads from a found run.
 * @category utils
 * @since 0.3.0
 */
export const runLookup =
  (run: FoundRun): Lookup =>
  (kind, key) => {
    switch (kind) {
      case 'metric':
        return own(run.metrics, key)
      case 'param':
        return own(run.params, key)
      case 'tag':
        return own(run.tags, key)
      case 'attribute':
        return own<string | number | undefined>({
          run_id: run.runId,
          // the server compares the run name of a filter with the mlflow.runName tag
          run_name: run.tags['mlflow.runName'] ?? run.runName,
          status: run.status,
          user_id: run.userId,
          start_time: run.startTime,
          end_time: run.endTime
        }, key)
    }
  }

/**
 * What a filter or an ordering reads from a found experiment.
 * @category utils
 * @since 0.3.0
 */
export const experimentLookup =
  (experiment: FoundExperiment): Lookup =>
  (kind, key) =>
    kind === 'tag'
      ? own(experiment.tags, key)
      : own<string | number | undefined>(
          {
            experiment_id: experiment.experimentId,
            name: experiment.name,
            creation_time: experiment.creationTime,
            last_update_time: experiment.lastUpdateTime
          },
          key
        )
